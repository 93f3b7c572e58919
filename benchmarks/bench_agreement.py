"""Does the fast inference path give the same answers as float32 on a trained model?

    python benchmarks/bench_agreement.py MODEL_DIR DATASET_DIR [DATASET_DIR ...]

Scores every clip of each dataset folder with `Classifier(precision="fp32")` (the pipeline's
numbers) and with the default `precision="auto"`, then prints the share of clips whose top-1
label agrees, the largest and the 99th-percentile absolute score difference, and both accuracies.
Target (issue #6): top-1 agreement >= 99 %, score difference <= 0.03.
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
    args = parser.parse_args()
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.models.inputs import load_waves

    exact = Classifier(args.model, device="cpu", precision="fp32")
    fast = Classifier(args.model, device="cpu")
    print(f"model {Path(args.model).name}: auto picks {fast.precision}\n")
    print("| dataset | clips | top-1 agreement | max score diff | p99 score diff | accuracy fp32 | "
          f"accuracy {fast.precision} | ms/clip fp32 | ms/clip {fast.precision} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in args.datasets:
        store = DatasetStore.open(Path(folder))
        waves, errors = load_waves([store.path_of(c) for c in store.clips], exact.rate, None)
        if errors:
            raise SystemExit(f"{folder}: unreadable clips: {errors[:3]}")
        truth = np.array([exact.labels.index(c.label) for c in store.clips])
        results = {}
        for name, classifier in (("fp32", exact), ("fast", fast)):
            started = time.perf_counter()
            results[name] = np.stack([classifier.sound.scores([w])[0] for w in waves])
            results[name + "_ms"] = (time.perf_counter() - started) * 1000 / len(waves)
        diff = np.abs(results["fp32"] - results["fast"]).max(axis=1)
        top_exact, top_fast = results["fp32"].argmax(1), results["fast"].argmax(1)
        print(f"| {Path(folder).name} | {len(waves)} | {np.mean(top_exact == top_fast):.2%} | {diff.max():.4f} | "
              f"{np.percentile(diff, 99):.4f} | {np.mean(top_exact == truth):.3f} | {np.mean(top_fast == truth):.3f} | "
              f"{results['fp32_ms']:.0f} | {results['fast_ms']:.0f} |")


if __name__ == "__main__":
    main()
