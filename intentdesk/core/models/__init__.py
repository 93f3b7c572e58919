"""Pretrained speech models: finding them (hub or folder), loading and adapting, building inputs, and the
number formats they run in on this machine (`precision`), for inference and for training's feature pass."""

# The number formats a model runs in (`precision`); "auto" picks the fastest correct one on this machine.
# Here, not in `precision.choice`, so the CLI lists them without importing torch.
PRECISIONS = ("auto", "fp32", "bf16", "int8")
