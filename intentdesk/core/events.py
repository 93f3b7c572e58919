"""Progress events of long jobs. Plain dataclasses: the GUI turns them into Qt signals in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StageEvent:
    """A coarse phase change ("Loading audio", "Caching features 120/900"); `fraction` is 0..1 or None."""

    stage: str
    fraction: float | None = None


@dataclass(frozen=True)
class TrainStarted:
    total_steps: int
    epochs: int
    train_clips: int
    eval_clips: int
    labels: list[str]
    device: str
    mode: str


@dataclass(frozen=True)
class StepEvent:
    step: int
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    elapsed_s: float
    eta_s: float


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
    output_dir: str | None
    cancelled: bool
    best_epoch: int | None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


TrainEvent = StageEvent | TrainStarted | StepEvent | EpochEvent | TrainFinished
EventCallback = Callable[[TrainEvent], None]


def ignore(_event: TrainEvent) -> None:
    """The default callback: headless callers that want no progress."""
