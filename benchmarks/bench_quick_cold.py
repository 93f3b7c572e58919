"""Quick training from a cold cache against one inference pass over the same clips (issue #23, item 3).

    python benchmarks/bench_quick_cold.py DATA --base MODEL [--rounds 2] [--busy 2] [--compare-no-bf16]

Each round, in fresh processes with an empty cache (`INTENTDESK_CACHE`), times the whole command as a
person runs it: `intentdesk train DATA --mode quick --no-words`, then `intentdesk evaluate MODEL DATA
--split all` (one pass over every clip, the fast format chosen afresh). The training's feature pass hears
more sounds than the inference pass (each training clip also at every speed variant); the ratio is the
wall time of one over the other. `--compare-no-bf16` also trains with `--no-bf16` in the same round: on a
CPU without AMX that is how the feature pass ran before it took the fast format (float32). `--busy N`
keeps N busy loops running beside everything (started by this script, killed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_busy import busy_loops, load  # noqa: E402


def timed(command: list[str], cache: Path) -> tuple[float, str]:
    env = {**os.environ, "INTENTDESK_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def one_round(args: argparse.Namespace, work: Path, extra: list[str]) -> dict[str, float]:
    cache, model = Path(tempfile.mkdtemp(dir=work)), work / f"model-{len(list(work.iterdir()))}"
    cli = [sys.executable, "-m", "intentdesk"]
    train_s, out = timed([*cli, "train", args.data, "--base", args.base, "--out", str(model), "--mode", "quick",
                          "--no-words", *extra], cache)
    record = json.loads(out.strip().splitlines()[-1])
    evaluate_s, _ = timed([*cli, "evaluate", str(model), args.data, "--split", "all"], cache)
    formats = sorted(p.read_text() for p in cache.glob("pooled/*/format.json"))
    shutil.rmtree(cache)
    return {"train": train_s, "evaluate": evaluate_s, "accuracy": record["accuracy"], "formats": formats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--base", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", type=int, default=0)
    parser.add_argument("--compare-no-bf16", action="store_true")
    args = parser.parse_args()
    variants = {"default": []} | ({"--no-bf16": ["--no-bf16"]} if args.compare_no_bf16 else {})
    loops = busy_loops(args.busy)
    rows: dict[str, list[dict]] = {name: [] for name in variants}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                for name, extra in variants.items():
                    print(f"round {n + 1}, {name}, {load()}", file=sys.stderr, flush=True)
                    rows[name].append(one_round(args, Path(tmp), extra))
    finally:
        for loop in loops:
            loop.kill()
    print(f"busy loops beside it: {args.busy}; {load()} at the end\n")
    print("| training | rounds: train cold / evaluate (s) | ratio (median) | eval-split accuracy | feature format |")
    print("|---|---|---|---|---|")
    for name, results in rows.items():
        pairs = ", ".join(f"{r['train']:.1f} / {r['evaluate']:.1f}" for r in results)
        ratio = statistics.median(r["train"] / r["evaluate"] for r in results)
        accuracy = ", ".join(f"{r['accuracy']:.3f}" for r in results)
        print(f"| {name} | {pairs} | **{ratio:.2f}x** | {accuracy} | {' '.join(results[0]['formats'])} |")


if __name__ == "__main__":
    main()
