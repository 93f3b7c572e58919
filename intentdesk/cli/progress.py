"""Progress of long CLI work on stderr: a redrawn bar with counts and time left on a terminal, plain
lines now and then otherwise (a log file or a pipe gets no carriage returns and no flood).

Why not tqdm: the counts and the time left come from the core's events (`core.events`: its own
rate estimate, which leaves out a model's slow first batch), the same bar serves several counts in
one run (features, steps, files), and the tests drive it with a fake terminal flag and clock.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from intentdesk.core.events import EpochEvent, Stage, StageEvent, StepEvent, TrainEvent, TrainStarted

BAR_WIDTH = 24


def duration(seconds: float | None) -> str:
    """'0:07', '12:40', '1:02:03'; '?' while there is no estimate."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Shows `update(label, done, total)` counts on `stream` (stderr by default; nothing when None).

    On a terminal the line is redrawn in place (at most every `redraw_s`, always at the end of a
    count). Elsewhere a plain line is written when a count starts and ends, when it passes each
    `step_share` of its total, and at least every `every_s` seconds. `line` writes a message
    without tearing an open bar or restarting the count. `terminal` and `clock` exist for tests.
    """

    def __init__(self, stream: TextIO | None = None, *, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, step_share: float = 0.1,
                 every_s: float = 10.0, redraw_s: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = _is_terminal(self.stream) if terminal is None else terminal
        self.clock = clock
        self.step_share, self.every_s, self.redraw_s = step_share, every_s, redraw_s
        self._count: tuple[str, int] | None = None  # the label and total being counted
        self._started = 0.0
        self._shown: tuple[float, int] | None = None  # when and at which count the last output was
        self._open = False  # a terminal bar is drawn without its newline
        self._redraw = False  # a message ended the bar's line: draw it again at the next update
        self._fill = "█" if _can_write(self.stream, "█") else "#"  # a terminal that cannot show the block

    def update(self, label: str, done: int, total: int, eta_s: float | None = None, note: str = "") -> None:
        """`done` of `total` in the count named `label`; `eta_s` the seconds left when the caller knows
        them (otherwise estimated from the rate so far); `note` a few words after the counts."""
        if self.stream is None or total <= 0:
            return
        now = self.clock()
        if self._count != (label, total) or (self._shown is not None and done < self._shown[1]):
            self.end()
            self._count, self._started, self._shown = (label, total), now, None
        finished = done >= total
        if not (finished or self._shown is None or (self.terminal and self._redraw) or self._due(now, done, total)):
            return
        self._redraw = False
        left = 0.0 if finished else eta_s if eta_s is not None else self._rate_left(now, done, total)
        self._shown = (now, done)
        if self.terminal:
            self._write(f"\r{self._bar(label, done, total, now, left, note)}\x1b[K" + ("\n" if finished else ""))
            self._open = not finished
        else:
            self._write(self._plain(label, done, total, now, left, note) + "\n")
        if finished:
            self._count = None

    def line(self, text: str) -> None:
        """A message on its own line, the count going on after it (a terminal bar is drawn again below)."""
        if self.stream is None:
            return
        if self._open:
            self._write("\n")
            self._open, self._redraw = False, True
        self._write(text + "\n")

    def end(self) -> None:
        """End the count (and an open bar's line): one that stopped before its total, cancelled or failed."""
        if self._open:
            self._write("\n")
            self._open = False
        self._count = None

    def _due(self, now: float, done: int, total: int) -> bool:
        since, last = self._shown  # type: ignore[misc]
        if self.terminal:
            return now - since >= self.redraw_s
        step = total * self.step_share
        crossed = math.floor(done / step + 1e-9) > math.floor(last / step + 1e-9)  # 18/(60 * 0.1) is 2.999...
        return crossed or now - since >= self.every_s

    def _rate_left(self, now: float, done: int, total: int) -> float | None:
        elapsed = now - self._started
        return elapsed / done * (total - done) if done > 0 and elapsed > 0 else None

    def _bar(self, label: str, done: int, total: int, now: float, left: float | None, note: str) -> str:
        filled = int(BAR_WIDTH * min(done, total) / total)
        bar = self._fill * filled + " " * (BAR_WIDTH - filled)
        times = f"{duration(now - self._started)}<{duration(left)}"
        return f"{label} {100 * done / total:3.0f}% |{bar}| {done:,}/{total:,} [{times}]" + (f" {note}" if note else "")

    def _plain(self, label: str, done: int, total: int, now: float, left: float | None, note: str) -> str:
        rest = "done" if done >= total else f"about {duration(left)} left"
        return (f"{label}: {done:,}/{total:,} ({100 * done / total:.0f} %), {duration(now - self._started)} so far, "
                f"{rest}" + (f"; {note}" if note else ""))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


# What a counted phase is called on its bar (its full text is shown once, on its own line, when it starts).
SHORT_NAMES = {
    Stage.CHECKING: "checking", Stage.LOADING_AUDIO: "loading", Stage.CACHING_FEATURES: "listening",
    Stage.TRAINING: "training", Stage.WARM_START: "stage 1 of 2", Stage.FINE_TUNING: "fine-tuning",
    Stage.EVALUATING: "testing", Stage.TRANSCRIBING: "transcribing", Stage.TRAINING_WORDS: "learning the words",
    Stage.SAVING: "saving",
}


class RunView:
    """A training or evaluation run's events on a `ProgressBar`: each phase's text once when it starts
    (and its closing text), its counts and the training steps (with the loss) as a bar, each epoch's
    scores and the run's start as a line."""

    def __init__(self, bar: ProgressBar) -> None:
        self.bar = bar
        self._phase: Stage | None = None
        self._steps = "training"  # the current training stage's name on the step bar
        self._text = ""  # the phase's text last shown

    def __call__(self, event: TrainEvent) -> None:
        if isinstance(event, StageEvent):
            self._stage(event)
        elif isinstance(event, TrainStarted):
            self._steps = SHORT_NAMES.get(event.kind, "training")
            self.bar.line(f"training {event.mode} on {event.device}: {event.train_clips} train / "
                          f"{event.eval_clips} eval clips, {len(event.labels)} labels, {event.total_steps} steps")
        elif isinstance(event, StepEvent):
            self.bar.update(self._steps, event.step, event.total_steps, event.eta_s, f"loss {event.loss:.4f}")
        elif isinstance(event, EpochEvent):
            self.bar.line(f"epoch {event.epoch}: eval loss {event.eval_loss:.4f} accuracy {event.accuracy:.4f} "
                          f"macro-F1 {event.macro_f1:.4f}{' (best)' if event.is_best else ''} "
                          f"[{event.elapsed_s:.0f}s]")

    def _stage(self, event: StageEvent) -> None:
        new_phase, self._phase = event.kind != self._phase, event.kind
        if new_phase or (event.step is None and event.stage != self._text):  # a phase, or news within one
            self.bar.line(f"[{event.stage}]")
            self._text = event.stage
        if event.step is not None and event.total:
            label = SHORT_NAMES.get(event.kind, event.kind.value) if event.kind else "working"
            self.bar.update(label, event.step, event.total, event.eta_s)
            if event.step >= event.total and event.stage != self._text:  # closing words ("has listened to...")
                self.bar.line(f"[{event.stage}]")
                self._text = event.stage


def _can_write(stream: TextIO | None, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
