"""Training settings: plain data with no torch import, shared by the trainer, the CLI and the GUI form."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from intentdesk.core.errors import TrainingError
from intentdesk.core.hub import DEFAULT_BASE_MODEL

# Number formats for inference (see core/fastpath.py); "auto" picks the fastest correct one here.
PRECISIONS = ("auto", "fp32", "bf16", "int8")

MODE_DEFAULTS = {
    # Learning rates are for the backbone; the fresh head learns at head_learning_rate.
    # Full mode starts from the quick-mode warm start, so a small backbone rate and few epochs
    # suffice; 5e-5 x 10 epochs scored 0.939 on voices held out of training, 2e-5 x 6 scored 0.968.
    "full": {"epochs": 6, "learning_rate": 2e-5, "batch_size": 8},
    "quick": {"epochs": 8, "learning_rate": 2e-4, "batch_size": 16},
}


@dataclass
class TrainSettings:
    """Everything that defines a run; saved next to the model as training_settings.json.

    Defaults learn on a few hundred clips: whole clips up to 8 s (never the tutorial's 1 s),
    enough optimizer steps (epochs x clips / batch), warmup, a faster-learning head.
    """

    base_model: str = DEFAULT_BASE_MODEL
    mode: str = "full"
    epochs: int | None = None
    learning_rate: float | None = None
    head_learning_rate: float = 1e-3
    batch_size: int | None = None
    max_seconds: float = 8.0
    eval_share: float = 0.2
    seed: int = 0
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    quick_layers: int = 1
    warm_start_epochs: int = 6
    speed_perturbation: tuple[float, ...] = (0.9, 1.1)
    device: str = "auto"
    bf16: bool = True

    def resolved(self) -> TrainSettings:
        """A copy with every mode-dependent default filled in, and the values checked."""
        if self.mode not in MODE_DEFAULTS:
            raise TrainingError(f"unknown mode {self.mode!r}: use full or quick")
        defaults = MODE_DEFAULTS[self.mode]
        copy = TrainSettings(**asdict(self))
        copy.epochs = self.epochs or defaults["epochs"]
        copy.learning_rate = self.learning_rate or defaults["learning_rate"]
        copy.batch_size = self.batch_size or defaults["batch_size"]
        if copy.epochs < 1 or copy.batch_size < 1:
            raise TrainingError("epochs and batch size must be at least 1")
        if not 0 < copy.eval_share < 1:
            raise TrainingError("eval share must be between 0 and 1 (e.g. 0.2)")
        if not 0.5 <= copy.max_seconds <= 60:
            raise TrainingError("max clip seconds must be between 0.5 and 60")
        return copy
