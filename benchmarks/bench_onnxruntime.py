"""Would ONNX Runtime beat IntentDesk's own CPU fast path? (issue #6: an option it names)

    pip install onnxruntime onnx onnxscript   # not app dependencies: this is an experiment
    python benchmarks/bench_onnxruntime.py

Wav2Vec2-base architecture (random weights, 14 labels), one 3 s clip, batch 1, 2 threads:
torch float32, our `precision="int8"`, and ONNX Runtime (exported with torch.onnx) in float32,
with dynamic int8 on every op it quantizes, and with int8 on MatMul/Gemm only. Prints medians
(ms) and the largest softmax difference from torch float32.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def main() -> None:
    import onnxruntime as ort
    from bench_inference import make_model
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForAudioClassification

    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.models.precision.choice import median_ms

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_model(folder)
        model = AutoModelForAudioClassification.from_pretrained(folder).eval()
        wave = (np.random.default_rng(0).standard_normal(48000) * 0.1).astype(np.float32)
        ours = Classifier(folder, device="cpu", precision="int8")
        inputs = ours.builder.build([wave])["input_values"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (inputs,), str(folder / "fp32.onnx"), input_names=["input_values"],
                              output_names=["logits"], dynamic_axes={"input_values": {0: "batch", 1: "samples"}},
                              dynamo=False, opset_version=17)
        quantize_dynamic(str(folder / "fp32.onnx"), str(folder / "int8_all.onnx"), weight_type=QuantType.QInt8)
        quantize_dynamic(str(folder / "fp32.onnx"), str(folder / "int8_matmul.onnx"), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm"])
        with torch.inference_mode():
            reference = model(inputs).logits.softmax(-1).numpy()
            rows = [("torch float32", median_ms(lambda: model(inputs), runs=9), 0.0),
                    ("IntentDesk int8", median_ms(lambda: ours.sound.scores([wave]), runs=9),
                     float(np.abs(ours.sound.scores([wave]) - reference).max()))]
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        feed = {"input_values": inputs.numpy()}
        for name in ("fp32", "int8_all", "int8_matmul"):
            session = ort.InferenceSession(str(folder / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
            drift = float(np.abs(softmax(session.run(None, feed)[0]) - reference).max())
            rows.append((f"ONNX Runtime {name}", median_ms(lambda s=session: s.run(None, feed), runs=9), drift))
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| path | ms (3 s clip) | max score diff vs torch fp32 |\n|---|---|---|")
    for name, ms, drift in rows:
        print(f"| {name} | {ms:.1f} | {drift:.4f} |")


if __name__ == "__main__":
    main()
