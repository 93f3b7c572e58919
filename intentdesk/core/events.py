"""Progress events of long jobs, structured so no consumer parses text; the GUI turns them into Qt signals.

Every progress event says what is happening as a `Stage` kind (the human text is for display
only) and where the whole job stands as `fraction`, 0..1 of the whole run, which only ever moves
forward (`Progress` keeps it so), and, once it can be estimated, `run_eta_s`: the seconds until
the model is saved, for the whole run (one estimate a person can plan with; `eta_s` is the
current phase's or stage's own). A training run ends with one `TrainFinished` saying how it
ended: finished, cancelled or failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intentdesk.core.runs import RunRecord


class Stage(str, Enum):
    """What a long job is doing; compare with these, never with the display text."""

    CHECKING = "checking"  # before a run: every clip's header, the base model (on disk or the hub)
    LOADING_AUDIO = "loading_audio"
    LOADING_MODEL = "loading_model"
    CACHING_FEATURES = "caching_features"  # quick mode and full mode's warm start: the frozen backbone runs once
    TRAINING = "training"  # quick mode: the top layer and head
    WARM_START = "warm_start"  # full mode, stage 1 of 2: quick-mode training first
    FINE_TUNING = "fine_tuning"  # full mode, stage 2 of 2: the whole backbone
    EVALUATING = "evaluating"  # scoring a model on clips
    TRANSCRIBING = "transcribing"  # the words part: a speech recogniser writes down each clip
    TRAINING_WORDS = "training_words"  # the words part: embedding texts, training and calibrating its head
    SAVING = "saving"


class Outcome(str, Enum):
    """How a run ended."""

    FINISHED = "finished"
    CANCELLED = "cancelled"  # stopped by the user; the best model so far may still have been saved
    FAILED = "failed"


@dataclass(frozen=True)
class StageEvent:
    """A phase change or progress inside a phase. `stage` is the display text ("The base model listens
    to every clip: 120 of 900 (…)"); `kind` what it is; `step`/`total` counts within the phase when it
    has them, and then `eta_s` the seconds left in the phase at the rate so far (None until there is a
    rate) and `run_eta_s` those of the whole run (None while what follows cannot be estimated)."""

    stage: str
    fraction: float | None = None  # of the whole run, never going back
    kind: Stage | None = None
    step: int | None = None
    total: int | None = None
    eta_s: float | None = None
    run_eta_s: float | None = None


@dataclass(frozen=True)
class TrainStarted:
    total_steps: int
    epochs: int
    train_clips: int
    eval_clips: int
    labels: list[str]
    device: str
    mode: str
    kind: Stage = Stage.TRAINING


@dataclass(frozen=True)
class StepEvent:
    step: int  # within the current training stage (total_steps of the last TrainStarted)
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    elapsed_s: float
    # Seconds left until the model is saved: this stage's steps and evaluation passes, the final
    # scoring and saving (`learning.eta`). In full mode's warm start (TrainStarted.kind WARM_START)
    # only until that stage ends: the fine-tuning after it has not been measured yet.
    eta_s: float
    fraction: float | None = None  # of the whole run
    # Seconds until the model is saved, for the whole run: `eta_s` plus, in the warm start, the
    # fine-tuning after it as estimated from the feature pass (`learning.eta.RunPlan`); None when
    # that cannot be estimated. The words part is in neither before it has started.
    run_eta_s: float | None = None


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    eval_loss: float
    accuracy: float
    macro_f1: float
    train_loss: float
    is_best: bool
    elapsed_s: float


@dataclass(frozen=True)
class TrainFinished:
    """The last event of a run. `record` is the saved run (None when nothing was saved)."""

    outcome: Outcome
    record: RunRecord | None
    seconds: float
    error: str = ""  # the one-line reason, when failed

    @property
    def output_dir(self) -> Path | None:
        return self.record.path if self.record is not None else None

    @property
    def cancelled(self) -> bool:
        return self.outcome is Outcome.CANCELLED


TrainEvent = StageEvent | TrainStarted | StepEvent | EpochEvent | TrainFinished
EventCallback = Callable[[TrainEvent], None]


def ignore(_event: TrainEvent) -> None:
    """The default callback: headless callers that want no progress."""


class Progress:
    """Turns "how far is this phase" into the fraction of the whole job, and sends the events.

    Each phase gets a share of 0..1 in proportion to its weight, in the order given; a phase that
    turns out not to run is simply skipped, so the fraction jumps forward, never back.
    """

    def __init__(self, on_event: EventCallback, weights: dict[Stage, float], untimed: Iterable[Stage] = ()) -> None:
        """`untimed`: phases the whole run's estimate (`after`) leaves out until they start (the words part)."""
        self.on_event = on_event
        self.started = time.monotonic()  # elapsed times run on across the job's stages
        self.sent_any = False  # failing before the first event means bad input: no final event then
        self._spans: dict[Stage, tuple[float, float]] = {}
        total, start = sum(weights.values()) or 1.0, 0.0
        for kind, weight in weights.items():
            self._spans[kind] = (start, start + weight / total)
            start += weight / total
        self._untimed = [kind for kind in untimed if kind in self._spans]
        self._last = 0.0
        self._counting: tuple[Stage, int, float | None, int] | None = None  # kind, total, since, from step
        self.item_seconds: dict[Stage, float] = {}  # each counted phase's latest seconds per item
        # Seconds the run takes after phase `kind` (None: cannot be estimated yet); the trainer sets it
        # once it knows the run's clips (`learning.eta.RunPlan.after`).
        self.after: Callable[[Stage], float | None] = lambda _kind: None

    def fraction(self, kind: Stage, done: float = 0.0, left_s: float | None = None) -> float:
        """The whole job's fraction when phase `kind` is `done` (0..1) complete; never less than before.

        With `left_s`, the seconds the whole job still takes (`whole_run`), the share of its time already
        spent counts too, where it is further: the phases' weights are rough, and a first Quick run spends
        most of its time listening (the bar read 28 % with 8 s left), a second one almost none. That share
        fills the bar only up to an `untimed` phase still ahead, which the estimate does not hold (the bar
        read 99 % with the words part still to come).
        """
        start, end = self._spans.get(kind, (self._last, self._last))
        self._last = max(self._last, start + (end - start) * min(1.0, max(0.0, done)))
        if left_s is not None:
            spent = time.monotonic() - self.started
            share = min(1.0, spent / (spent + left_s)) if spent + left_s > 0 else 0.0
            self._last = max(self._last, share * self._timed_part(start))
        return self._last

    def _timed_part(self, start: float) -> float:
        """The share of the bar the whole run's estimate covers from a phase beginning at `start`: up to
        the first untimed phase after it."""
        ahead = [self._spans[kind][0] for kind in self._untimed if self._spans[kind][0] > start]
        return min(ahead, default=1.0)

    def stage(self, kind: Stage, text: str, step: int | None = None, total: int | None = None) -> None:
        """Announce phase `kind` (or progress in it, with `step` of `total`)."""
        done = step / total if total else float(step is not None)  # nothing to do is done
        eta = self._eta(kind, step, total)
        whole = self.whole_run(kind, eta)
        self.emit(StageEvent(text, self.fraction(kind, done, whole), kind, step, total, eta, whole))

    def whole_run(self, kind: Stage, left_in_phase: float | None) -> float | None:
        """Seconds until the model is saved: what is left of phase `kind` and what follows it."""
        after = self.after(kind) if left_in_phase is not None else None
        return None if after is None else left_in_phase + after

    def _eta(self, kind: Stage, step: int | None, total: int | None) -> float | None:
        """Seconds left in a counted phase at its rate so far, leaving out its first stretch (the first
        batch through a model is slow: memory, lazy setup); None until there is such a rate."""
        if step is None or not total:
            return None
        now = time.monotonic()
        counting = self._counting
        if counting is None or counting[:2] != (kind, total) or step < counting[3]:
            self._counting = (kind, total, None, step)  # a new count: its rate starts at the next event
            return None
        _, _, since, first = counting
        if since is None:
            self._counting = (kind, total, now, step)
            return None
        if step <= first:
            return None
        self.item_seconds[kind] = (now - since) / (step - first)
        return self.item_seconds[kind] * (total - step)

    def emit(self, event: TrainEvent) -> None:
        self.sent_any = True
        self.on_event(event)
