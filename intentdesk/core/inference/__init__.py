"""Using a trained model: the classifier, fast number formats, results and evaluation."""

# The number formats a classifier runs in (`precision`); "auto" picks the fastest correct one on this machine.
# Here, not in `precision.choice`, so the CLI lists them without importing torch.
PRECISIONS = ("auto", "fp32", "bf16", "int8")
