"""Accuracy on voices the model never heard: k-fold leave-voices-out through the product's CLI.

The corpus (made by shared/corpus/make_corpus.py, with a `voice` column) is split by voice: each
fold trains `intentdesk train` on all but two voices and scores `intentdesk evaluate` on those
two. Prints each fold's accuracy and wall times, and the mean. `--python` runs another checkout's
code (e.g. a worktree of an older commit), so before/after numbers come from one script.

    python benchmarks/bench_unseen_voices.py CORPUS --base WHISPER_TINY_EN --work /tmp/folds -- --mode quick
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--base", required=True)
    parser.add_argument("--work", type=Path, required=True, help="folder for the fold datasets and models")
    parser.add_argument("--code", type=Path, default=HERE.parent, help="checkout whose intentdesk runs")
    parser.add_argument("--voices-per-fold", type=int, default=2)
    own, train_flags = _split_at_dashes(sys.argv[1:])
    args = parser.parse_args(own)
    args.corpus, args.work, args.code = args.corpus.resolve(), args.work.resolve(), args.code.resolve()
    args.train_flags = train_flags
    with open(args.corpus / "metadata.csv", newline="") as handle:
        voices = sorted({row["voice"] for row in csv.DictReader(handle)})
    step = args.voices_per_fold
    results = []
    for fold, start in enumerate(range(0, len(voices), step)):
        held = voices[start:start + step]
        results.append(run_fold(args, fold, held))
        print(json.dumps(results[-1]), flush=True)
    accuracies = [r["accuracy"] for r in results]
    print(f"mean accuracy on unseen voices: {sum(accuracies) / len(accuracies):.4f} "
          f"(folds: {' '.join(f'{a:.3f}' for a in accuracies)}); "
          f"mean train wall {sum(r['train_s'] for r in results) / len(results):.1f} s")


def _split_at_dashes(argv: list[str]) -> tuple[list[str], list[str]]:
    """(this script's arguments, the `intentdesk train` flags after `--`)."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1:]


def run_fold(args, fold: int, held: list[str]) -> dict:
    train_dir, test_dir = args.work / f"fold{fold}" / "train", args.work / f"fold{fold}" / "test"
    if not (train_dir / "metadata.csv").is_file():
        subprocess.run([sys.executable, str(HERE / "split_by_voice.py"), str(args.corpus), str(train_dir),
                        str(test_dir), "--test-voices", ",".join(held)], check=True, stdout=subprocess.DEVNULL)
    model = args.work / f"fold{fold}" / "model"
    # `python -m` puts the working folder first on sys.path: run in the checkout being measured
    env = {**os.environ, "PYTHONPATH": str(args.code), "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "intentdesk", "train", str(train_dir), "--base", args.base,
                    "--out", str(model), *args.train_flags], check=True, env=env, cwd=args.code,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    train_s = time.monotonic() - started
    out = subprocess.run([sys.executable, "-m", "intentdesk", "evaluate", str(model), str(test_dir), "--split", "all",
                          "--json"], check=True, env=env, cwd=args.code, capture_output=True, text=True).stdout
    return {"fold": fold, "held_out": held, "accuracy": json.loads(out)["accuracy"], "train_s": round(train_s, 1)}


if __name__ == "__main__":
    main()
