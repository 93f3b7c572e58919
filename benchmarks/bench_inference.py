"""Inference latency, batch 1, CPU: transformers' pipeline vs IntentDesk's Classifier (fp32 and
bf16 autocast), same model (Wav2Vec2-base architecture, random weights), same clips, same run.

    python benchmarks/bench_inference.py [--runs 7]

Prints a Markdown table (median ms per clip) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_model(folder: Path) -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    labels = [f"intent{i}" for i in range(14)]
    config = Wav2Vec2Config(num_labels=14, id2label=dict(enumerate(labels)),
                            label2id={label: i for i, label in enumerate(labels)})
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=False).save_pretrained(folder)


def median_ms(call, runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from transformers import pipeline

    from intentdesk.core.backbone import autocast_for, cpu_has_fast_bf16
    from intentdesk.core.inference import Classifier

    with tempfile.TemporaryDirectory() as tmp:
        make_model(Path(tmp))
        hf = pipeline("audio-classification", model=tmp, device="cpu")
        ours = Classifier(tmp, device="cpu")
        rng = np.random.default_rng(0)
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, fast bf16: {cpu_has_fast_bf16()}")
        print("| clip | pipeline (ms) | Classifier fp32 (ms) | Classifier bf16 autocast (ms) | bf16 speed-up |")
        print("|---|---|---|---|---|")
        for seconds in (1, 3, 8):
            wave = (rng.standard_normal(16000 * seconds) * 0.1).astype(np.float32)
            base = median_ms(lambda w=wave: hf(w, top_k=14), args.runs)
            fp32 = median_ms(lambda w=wave: ours.scores([w]), args.runs)

            def bf16(w=wave):
                with autocast_for(torch.device("cpu")):
                    ours.scores([w])

            fast = median_ms(bf16, args.runs)
            print(f"| {seconds} s | {base:.0f} | {fp32:.0f} | {fast:.0f} | {base / fast:.2f}x |")


if __name__ == "__main__":
    main()
