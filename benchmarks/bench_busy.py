"""Speed on a busy machine (issue #23, item 2): the same small workload quiet, then beside two busy loops.

    python benchmarks/bench_busy.py DATA --base MODEL [--clips 32] [--asr WHISPER] [--variants default,passive]

Each variant runs the workload in a fresh process (so its environment is read before torch loads),
first alone, then while this script keeps two `python -c "while True: pass"` loops running (killed at
the end), and prints each part's seconds and the busy/quiet ratio. The workload, on the first
`--clips` clips of DATA (copied into a fresh dataset):

- caching: Quick training with an empty feature cache, the time of its feature pass (the frozen
  base model over every clip and speed variant);
- quick: the same Quick training again with the cache warm (the whole `train` call);
- classify: `Classifier.classify_files` over 16 of the clips with the model just trained (load excluded);
- transcribe: `Transcriber.transcribe` of 8 clips with `--asr` (load excluded, no transcript cache).

Variants: `app` (the process set up as `intentdesk` sets it up: `intentdesk.core.threads` and `.allocation`),
`app-spin20k` (the same, and GOMP_SPINCOUNT=20000: libgomp's workers spin ~0.2 ms before sleeping), `default`
(nothing set: torch's own choice), `passive` (OMP_WAIT_POLICY=PASSIVE), `spin0` (GOMP_SPINCOUNT=0),
`one` (OMP_NUM_THREADS=1), `passive-quick1` (passive, and the warm Quick run on one thread). The
machine's own load is printed with every number: on a shared machine it is not this script's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "app": {},
    # as the app, with libgomp's workers spinning ~0.2 ms (100,000 spins a millisecond) before they sleep
    "app-spin20k": {"GOMP_SPINCOUNT": "20000"},
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin0": {"GOMP_SPINCOUNT": "0"},
    "one": {"OMP_NUM_THREADS": "1"},
    # passive waiting, and the warm Quick run (all of it small head steps) on one thread
    "passive-quick1": {"OMP_WAIT_POLICY": "PASSIVE", "BENCH_QUICK_THREADS": "1"},
}
PARTS = ("caching", "quick", "classify", "transcribe")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME",
                    "BENCH_QUICK_THREADS")


def make_dataset(source: Path, target: Path, count: int) -> None:
    """The first `count` clips of `source`, taken evenly across its rows (so every label is in)."""
    from intentdesk.core.data.store import DatasetStore

    store = DatasetStore.open(source)
    clips = store.clips
    step = max(1, len(clips) // count)
    chosen = clips[::step][:count]
    DatasetStore.create(target).add_files([(store.path_of(c), c.label, {}) for c in chosen])


def child(args: argparse.Namespace) -> None:
    """Runs the workload in this process and prints one JSON line of seconds per part."""
    if args.child.startswith("app"):
        from intentdesk.core import allocation, threads

        threads.prepare_process()
        allocation.prepare_allocation()
    work = Path(args.work)
    os.environ["INTENTDESK_CACHE"] = str(work / f"cache-{os.getpid()}")
    from intentdesk.core.events import Stage, StageEvent
    from intentdesk.core.learning.settings import TrainSettings
    from intentdesk.core.learning.trainer import train

    seen: dict[Stage, list[float]] = {}

    def on_event(event) -> None:
        if isinstance(event, StageEvent) and event.kind is not None:
            seen.setdefault(event.kind, []).append(time.perf_counter())

    settings = TrainSettings(base_model=args.base, mode="quick")
    train(work / "data", work / f"model-{os.getpid()}", settings, on_event)
    marks = seen[Stage.CACHING_FEATURES]
    result = {"caching": marks[-1] - marks[0]}
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("BENCH_QUICK_THREADS", threads)))
    started = time.perf_counter()
    record = train(work / "data", work / f"model-{os.getpid()}", settings)
    result["quick"] = time.perf_counter() - started
    torch.set_num_threads(threads)
    result.update(classify_and_transcribe(record.path, work / "data", args.asr))
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result), flush=True)


def classify_and_transcribe(model: Path, data: Path, asr: str | None) -> dict[str, float]:
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.models.inputs import load_waves

    store = DatasetStore.open(data)
    files = [store.path_of(c) for c in store.clips[:16]]
    classifier = Classifier(model)
    classifier.classify_files(files[:2], batch_size=8)  # first call: lazy set-up, precision memo
    started = time.perf_counter()
    classifier.classify_files(files, batch_size=8)
    result = {"classify": time.perf_counter() - started}
    if asr:
        from intentdesk.core.words.asr import Transcriber

        waves, _ = load_waves(files[:8], 16000, 30.0)
        transcriber = Transcriber(asr, cache_dir=False)
        transcriber.transcribe(waves[:2])
        started = time.perf_counter()
        transcriber.transcribe(waves)
        result["transcribe"] = time.perf_counter() - started
    return result


def run_child(args: argparse.Namespace, variant: str, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.update(VARIANTS[variant], HF_HUB_OFFLINE="1")
    command = [sys.executable, __file__, "--child", variant, "--work", str(work), "--base", args.base,
               *(["--asr", args.asr] if args.asr else []), "DATA"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def busy_loops(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def load() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--base", required=True)
    parser.add_argument("--asr", help="a speech recogniser folder (e.g. Whisper tiny.en); without it, no transcribe")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--variants", default="default,passive")
    parser.add_argument("--busy", type=int, default=2, help="busy loops started beside the busy run")
    parser.add_argument("--child")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.child:
        return child(args)
    print(f"CPU: {os.cpu_count()} logical, affinity {len(os.sched_getaffinity(0))}; {load()} before; "
          f"{args.clips} clips, base {args.base}\n")
    with tempfile.TemporaryDirectory(prefix="bench-busy-") as tmp:
        work = Path(tmp)
        make_dataset(Path(args.data), work / "data", args.clips)
        print("| variant | threads | load | " + " | ".join(PARTS) + " |")
        print("|---|---|---|" + "---|" * len(PARTS))
        for variant in args.variants.split(","):
            quiet = run_child(args, variant, work)
            quiet_load = load()
            loops = busy_loops(args.busy)
            try:
                time.sleep(1.0)  # the loops are running before the work starts
                busy = run_child(args, variant, work)
                busy_load = load()
            finally:
                for loop in loops:
                    loop.kill()
                    loop.wait()
            row = [f"{quiet.get(p, float('nan')):.2f} → {busy.get(p, float('nan')):.2f} s "
                   f"(**{busy.get(p, float('nan')) / quiet.get(p, float('nan')):.1f}x**)" for p in PARTS]
            print(f"| {variant} | {quiet['threads']} | {quiet_load} / {busy_load} | " + " | ".join(row) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
