"""How right the training ETA is: the time left it showed at every step vs the time that was really left.

    python benchmarks/bench_eta.py DATA --base MODEL --mode quick|full [intentdesk train flags]

Runs `intentdesk.core.learning.trainer.train` (the same flags as `intentdesk train`; --out is a
temporary folder unless given) and records (time, eta_s, epoch) for every `StepEvent`. The real
time left at a step is the time until `TrainFinished`, except in full mode's warm start, whose
ETA covers that stage only (see `StepEvent.eta_s`): there it is the time until stage 2 starts.
Prints, per epoch from epoch 2 on, the ETA shown at its first step vs the real time left then,
and the largest relative and absolute error over all of its steps; then the largest over all
those epochs. A relative error of a stage that takes well under a second (quick mode's head)
says little: read the absolute one there. The feature-caching stage's ETA (`StageEvent.eta_s`)
is checked likewise against the time its last counted event came, at 25, 50 and 75 % done.
With --words the words part runs before saving and is not in the ETA: leave it off here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass

from intentdesk.cli.train import add_parsers, cli_settings
from intentdesk.core.events import Stage, StageEvent, StepEvent, TrainEvent, TrainFinished, TrainStarted
from intentdesk.core.learning.settings import TrainSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@dataclass
class Seen:
    time: float
    eta_s: float
    epoch: int
    warm_start: bool  # full mode's stage 1: its ETA ends with the stage


class Recorder:
    """The training callback: every step's ETA, and when the estimates' end points came."""

    def __init__(self) -> None:
        self.steps: list[Seen] = []
        self.kind: Stage | None = None
        self.stage_two_at: float | None = None
        self.finished_at: float | None = None
        self.caching: list[tuple[float, float | None, int, int]] = []  # time, eta_s, step, total

    def __call__(self, event: TrainEvent) -> None:
        now = time.monotonic()
        if isinstance(event, TrainStarted):
            self.kind = event.kind
        elif isinstance(event, StageEvent) and event.kind is Stage.FINE_TUNING and self.stage_two_at is None:
            self.stage_two_at = now
        elif isinstance(event, StageEvent) and event.kind is Stage.CACHING_FEATURES and event.total:
            self.caching.append((now, event.eta_s, event.step, event.total))
        elif isinstance(event, StepEvent):
            self.steps.append(Seen(now, event.eta_s, math.ceil(event.epoch - 1e-9), self.kind is Stage.WARM_START))
        elif isinstance(event, TrainFinished):
            self.finished_at = now

    def truly_left(self, seen: Seen) -> float:
        end = self.stage_two_at if seen.warm_start and self.stage_two_at is not None else self.finished_at
        return end - seen.time


def settings_from(argv: list[str], out: str) -> tuple[str, str, TrainSettings]:
    """The data folder, output folder and settings, parsed exactly as `intentdesk train` does."""
    parser = argparse.ArgumentParser(prog="bench_eta.py")
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", *argv] + ([] if "--out" in argv else ["--out", out]))
    given = {name: getattr(args, name) for name in cli_settings() if getattr(args, name) is not None}
    return args.data, args.out, TrainSettings(base_model=args.base, mode=args.mode, **given)


def report_caching(recorder: Recorder) -> None:
    """The feature-caching ETA at 25, 50 and 75 % of the clips, against the time the stage ended."""
    if not recorder.caching or recorder.caching[-1][2] != recorder.caching[-1][3]:
        print("feature caching: nothing computed (cache warm) or not finished")
        return
    end, total = recorder.caching[-1][0], recorder.caching[-1][3]
    print(f"feature caching: {total} clips in {end - recorder.caching[0][0]:.1f} s")
    for share in (0.25, 0.5, 0.75):
        when, eta, step, _ = next(c for c in recorder.caching if c[2] >= share * total)
        if eta is not None:
            print(f"  at {step}/{total}: ETA {eta:.1f} s, really left {end - when:.1f} s, "
                  f"error {(eta - (end - when)) / (end - when):+.1%}")


def report(recorder: Recorder) -> float:
    """Print the per-epoch table; returns the largest relative error from epoch 2 on."""
    print(f"{'epoch':>5} {'stage':>8} {'ETA shown':>10} {'really left':>12} {'largest error':>14} {'in s':>7}")
    worst = 0.0
    for epoch in sorted({s.epoch for s in recorder.steps if s.epoch >= 2}):
        steps = [s for s in recorder.steps if s.epoch == epoch]
        absolute = [s.eta_s - recorder.truly_left(s) for s in steps]
        relative = [a / recorder.truly_left(s) for a, s in zip(absolute, steps)]
        largest = max(relative, key=abs)
        worst = max(worst, abs(largest))
        stage = "1 of 2" if steps[0].warm_start else "last"
        print(f"{epoch:>5} {stage:>8} {steps[0].eta_s:>9.1f}s {recorder.truly_left(steps[0]):>11.1f}s "
              f"{largest:>+13.1%} {max(absolute, key=abs):>+7.1f}")
    print(f"largest relative error from epoch 2 on: {worst:.1%}")
    return worst


def main(argv: list[str]) -> None:
    from intentdesk.core.learning.trainer import train

    with tempfile.TemporaryDirectory(prefix="bench-eta-") as tmp:
        data, out, settings = settings_from(argv, os.path.join(tmp, "model"))
        recorder = Recorder()
        started = time.monotonic()
        train(data, out, settings, recorder)
        print(f"{settings.mode} run: {recorder.finished_at - started:.1f} s, {len(recorder.steps)} steps")
        report_caching(recorder)
        report(recorder)


if __name__ == "__main__":
    main(sys.argv[1:])
