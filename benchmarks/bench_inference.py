"""Inference speed on the CPU: transformers' pipeline vs IntentDesk's Classifier, same run.

    python benchmarks/bench_inference.py [--runs 15] [--clips 64]

Model: the Wav2Vec2-base architecture (random weights are fine for speed), 14 labels.
1. Latency, batch 1, for 1 s, 3 s and 8 s clips: the pipeline, our Classifier in float32 and in
   each fast format, and the format `precision="auto"` picks on this machine. Calls alternate
   between the contenders round by round, so a slow phase of the machine hits all of them.
2. Throughput for `--clips` clips of mixed length (1-8 s): one-by-one pipeline calls vs
   `SoundModel.scores_many` (length-bucketed batches where they are exact).
The process is set up as `intentdesk` sets its own (OpenMP waiting, memory for large tensors), so the
pipeline, in the same process, runs with those settings too.
Prints Markdown tables (medians in ms) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from intentdesk.core.allocation import prepare_allocation
from intentdesk.core.threads import prepare_process

prepare_process()  # as every IntentDesk command does before torch loads (the pipeline shares this process)
prepare_allocation()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from intentdesk.core.audio.io import SAMPLE_RATE  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_model(folder: Path) -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    labels = [f"intent{i}" for i in range(14)]
    config = Wav2Vec2Config(num_labels=14, id2label=dict(enumerate(labels)),
                            label2id={label: i for i, label in enumerate(labels)})
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=False).save_pretrained(folder)


def interleaved_medians(calls: dict[str, callable], runs: int) -> dict[str, float]:
    for call in calls.values():
        call()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--clips", type=int, default=64)
    args = parser.parse_args()
    from transformers import pipeline

    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.models.backbone import cpu_has_bf16, cpu_has_fast_bf16
    from intentdesk.core.models.precision.choice import candidates

    with tempfile.TemporaryDirectory() as tmp:
        make_model(Path(tmp))
        hf = pipeline("audio-classification", model=tmp, device="cpu")
        ours = {"fp32": Classifier(tmp, device="cpu", precision="fp32")}
        for name in candidates(torch.device("cpu")):
            ours[name] = Classifier(tmp, device="cpu", precision=name)
        auto = Classifier(tmp, device="cpu")
        rng = np.random.default_rng(0)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 kernels: {cpu_has_bf16()}, "
              f"AMX: {cpu_has_fast_bf16()}, "
              f"auto picks {auto.precision} (probe ms: "
              + ", ".join(f"{k} {v:.0f}" for k, v in auto.sound.choice.timings_ms.items()) + ")\n")
        names = list(ours)
        print("| clip | pipeline | " + " | ".join(f"ours {n}" for n in names) + " | auto vs pipeline |")
        print("|---|---|" + "---|" * len(names) + "---|")
        for seconds in (1, 3, 8):
            wave = (rng.standard_normal(SAMPLE_RATE * seconds) * 0.1).astype(np.float32)
            calls = {"pipeline": lambda w=wave: hf(w, top_k=14)}
            calls.update({n: (lambda w=wave, c=c: c.sound.scores([w])) for n, c in ours.items()})
            ms = interleaved_medians(calls, args.runs)
            speedup = ms["pipeline"] / ms[auto.precision]
            print(f"| {seconds} s | {ms['pipeline']:.0f} | " + " | ".join(f"{ms[n]:.0f}" for n in names)
                  + f" | {speedup:.2f}x |")

        lengths = rng.integers(SAMPLE_RATE, SAMPLE_RATE * 8 + 1, size=args.clips)
        waves = [(rng.standard_normal(n) * 0.1).astype(np.float32) for n in lengths]
        started = time.perf_counter()
        for wave in waves:
            hf(wave, top_k=14)
        base = args.clips / (time.perf_counter() - started)
        started = time.perf_counter()
        auto.sound.scores_many(waves, batch_size=8)
        fast = args.clips / (time.perf_counter() - started)
        print(f"\n{args.clips} clips of 1-8 s (mean {lengths.mean() / SAMPLE_RATE:.1f} s): pipeline one by one "
              f"{base:.2f} clips/s, SoundModel.scores_many ({auto.precision}) {fast:.2f} clips/s, {fast / base:.2f}x")


if __name__ == "__main__":
    main()
