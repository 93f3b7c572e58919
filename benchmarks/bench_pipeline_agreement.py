"""Does the app rank clips as `transformers.pipeline("audio-classification")` does on the saved folder?

    python benchmarks/bench_pipeline_agreement.py MODEL_DIR DATASET_DIR [DATASET_DIR ...] [--precision fp32]

Every clip of each dataset is decoded once (at the model's rate) and scored by the Hugging Face
pipeline on MODEL_DIR and by IntentDesk's `Classifier` (its default, automatically chosen number
format; sound-only ranking). Prints per dataset the share of clips whose top-1 label agrees, the
largest and 99th-percentile score difference, both accuracies and both mean ms per clip.
Target (issue #15): top-1 agreement >= 99 % on held-out clips.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--precision", default="auto", help="the app's number format (auto picks the fastest correct)")
    args = parser.parse_args()
    from transformers import pipeline

    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.models.inputs import load_waves

    ours = Classifier(args.model, device="cpu", precision=args.precision)
    reference = pipeline("audio-classification", model=args.model, device="cpu")
    labels = ours.labels
    print(f"model {Path(args.model).name}: the app runs {ours.precision}\n")
    print("| dataset | clips | top-1 agreement | max score diff | p99 score diff | accuracy pipeline | "
          "accuracy app | ms/clip pipeline | ms/clip app |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in args.datasets:
        store = DatasetStore.open(Path(folder))
        waves, _ = load_waves([store.path_of(c) for c in store.clips], ours.rate, None)
        truth = [c.label for c in store.clips]
        started = time.perf_counter()
        hf = np.array([_pipeline_scores(reference, wave, ours.rate, labels) for wave in waves])
        hf_ms = (time.perf_counter() - started) * 1000 / len(waves)
        started = time.perf_counter()
        app = np.array([ours.sound.scores_many([ours.clips.fit(wave)[0]], 1)[0] for wave in waves])
        app_ms = (time.perf_counter() - started) * 1000 / len(waves)
        diff = np.abs(hf - app).max(axis=1)
        agree = np.mean(hf.argmax(1) == app.argmax(1))
        accuracy = [np.mean([labels[i] == t for i, t in zip(s.argmax(1), truth)]) for s in (hf, app)]
        print(f"| {Path(folder).name} | {len(waves)} | {agree:.2%} | {diff.max():.4f} | "
              f"{np.percentile(diff, 99):.4f} | {accuracy[0]:.3f} | {accuracy[1]:.3f} | "
              f"{hf_ms:.0f} | {app_ms:.0f} |", flush=True)


def _pipeline_scores(reference, wave: np.ndarray, rate: int, labels: list[str]) -> list[float]:
    ranked = reference({"raw": wave, "sampling_rate": rate}, top_k=len(labels))
    by_label = {p["label"]: p["score"] for p in ranked}
    return [by_label[label] for label in labels]


if __name__ == "__main__":
    main()
