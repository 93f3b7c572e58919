"""Training runs: `RunRecord`, the one reader and writer of a run's metrics.json, and the runs under a
dataset's `models/` folder (naming, listing, renaming, deleting).

Nothing else opens metrics.json: the trainer writes a record, the CLI prints one, the GUI and the
classifier read one, all through the typed attributes here instead of `.get` chains.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from intentdesk.core.errors import TrainingError
from intentdesk.core.json_files import JsonProblem, read_json
from intentdesk.core.staging import MODELS, is_trained_model, remove_model_folder, remove_stale_staging

METRICS_FILE = "metrics.json"
NOT_IN_FILE = ("path", "created")  # where the record lies, not what the run measured
WORDS_KEYS = ("sound", "words", "fused")  # only in the file of a model with a words part
STAGE_1 = "stage 1"  # a full run's saved model is its stage 1's: the Quick warm start (RunRecord.saved_stage)
# A run's metrics: one loss per optimizer step is the bulk (100,000 steps are about 2 MB). The runs list
# reads every run's file, so a larger one is not read (the run lists as "not tested").
METRICS_BYTES = 16 << 20


@dataclass
class RunRecord:
    """One training run as metrics.json stores it (the field names are its keys), plus where it lies.

    The scores (labels ... confusion_matrix, as `classification_metrics` computes them) are the
    saved model's on the eval split; `history` has one row per epoch (epoch, train_loss,
    eval_loss, accuracy, macro_f1); `step_losses` one training loss per optimizer step.
    """

    mode: str = "?"
    base_model: str = "?"
    cancelled: bool = False
    best_epoch: int | None = None
    train_seconds: float = 0.0
    train_clips: int = 0
    eval_clips: int = 0
    eval_loss: float | None = None
    labels: list[str] = field(default_factory=list)
    count: int = 0
    accuracy: float | None = None
    precision: dict[str, float] = field(default_factory=dict)  # micro, macro, weighted
    recall: dict[str, float] = field(default_factory=dict)
    f1: dict[str, float] = field(default_factory=dict)
    per_class: dict[str, dict] = field(default_factory=dict)  # label -> precision, recall, f1, support
    confusion_matrix: list[list[int]] = field(default_factory=list)  # rows: true label, columns: predicted
    history: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    # Quick mode's final pass on every clip (see `learned_from_all`): [pass over the data, loss] per step, the
    # dashed curve the Train tab draws live, and again when the run is opened later
    final_pass_losses: list[list[float]] = field(default_factory=list)
    # With a words part: each model's scores on the eval split (dicts like the top level, which
    # then holds the fused ones); empty, and left out of metrics.json, for a sound-only model.
    sound: dict = field(default_factory=dict)
    words: dict = field(default_factory=dict)
    fused: dict = field(default_factory=dict)
    # Quick mode's final pass on every clip: the saved model also learned from the eval clips, and
    # the scores above are those of the same training without them (see settings.learn_from_all).
    learned_from_all: bool = False
    # Full mode: STAGE_1 when the saved model is its stage 1's, the Quick warm start with the backbone
    # not fine-tuned (cancelled in stage 2, or stage 2 never did better); "" for the model its mode trains.
    saved_stage: str = ""
    words_asked: bool = False  # the run was to learn from the words too (`has_words`: whether it did)
    path: Path | None = None  # the model folder; None when nothing was saved
    created: float = 0.0  # when the model folder was written (seconds since the epoch)

    @property
    def macro_f1(self) -> float | None:
        return self.f1.get("macro")

    @property
    def sound_accuracy(self) -> float | None:
        """The sound model's accuracy: its own when there is a words part, else the top level's."""
        return _accuracy(self.sound) if self.sound else self.accuracy

    @property
    def words_accuracy(self) -> float | None:
        return _accuracy(self.words)

    @property
    def fused_accuracy(self) -> float | None:
        return _accuracy(self.fused)

    @property
    def has_words(self) -> bool:
        return bool(self.fused)

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else ""

    @property
    def output_dir(self) -> Path | None:
        """`path`, by the name `train()`'s result always had."""
        return self.path

    @property
    def metrics(self) -> dict:
        """What metrics.json holds."""
        return {key: value for key, value in asdict(self).items()
                if key not in NOT_IN_FILE and not (key in WORDS_KEYS and not value)}

    @property
    def kind(self) -> str:
        """What the saved model is: its mode (and whether the run was cancelled), or the Quick model a
        full run kept from its stage 1 (the folder's name says "full": this says what it holds)."""
        if self.saved_stage == STAGE_1:
            why = "a cancelled full run" if self.cancelled else "a full run (stage 2 did not do better)"
            return f"quick model from stage 1 of {why}"
        return f"{self.mode}, cancelled" if self.cancelled else self.mode

    @property
    def words_note(self) -> str:
        """Whether the model uses the words: "with words", that a run meant to learn them did not, or ""."""
        if self.has_words:
            return "with words"
        return "no words part: stopped before it learned the words" if self.words_asked else ""

    def summary(self) -> str:
        """One line for run lists: name, what the model is (and whether it uses the words), and its score in
        plain words (macro-F1 and the rest are in the Results tab)."""
        score = f"right on {self.accuracy:.1%} of its test clips" if self.accuracy is not None else "not tested"
        return f"{self.name}  ({', '.join(part for part in (self.kind, self.words_note, score) if part)})"

    def write(self, folder: Path) -> None:
        """Write metrics.json into `folder` (a staging folder: the save makes it appear atomically)."""
        (Path(folder) / METRICS_FILE).write_text(json.dumps(self.metrics, indent=1))

    @classmethod
    def from_metrics(cls, metrics: Any, path: Path | None = None, created: float = 0.0) -> RunRecord:
        """A record from metrics.json's content; a missing or wrongly typed value gets its default, so
        a damaged or older file still lists and opens."""
        values = clean_scores(metrics if isinstance(metrics, dict) else {})
        values.update({key: clean_scores(values[key]) for key in WORDS_KEYS if isinstance(values.get(key), dict)})
        kept = {f.name: values[f.name] for f in fields(cls)
                if f.name not in NOT_IN_FILE and f.name in values and _fits(values[f.name], f)}
        return cls(**kept, path=path, created=created)


def _accuracy(scores: dict) -> float | None:
    value = scores.get("accuracy") if isinstance(scores, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _real(value) and math.isfinite(value)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _averages(value: Any) -> bool:
    return isinstance(value, dict) and all(_finite(v) for v in value.values())


def _per_class(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(row, dict) and all(_finite(row.get(key)) for key in ("precision", "recall", "f1"))
        and _count(row.get("support")) for row in value.values())


def _history(value: Any) -> bool:
    """Rows the curves can draw: an epoch number and losses and scores that are numbers (NaN after a
    diverged run) or null."""
    return isinstance(value, list) and all(
        isinstance(row, dict) and _real(row.get("epoch"))
        and all(row.get(key) is None or _real(row[key]) for key in ("train_loss", "eval_loss", "accuracy", "macro_f1"))
        for row in value)


# What each score of metrics.json (top level, and `sound`, `words`, `fused`) must be for the Results
# panel to show it; one that is not is left out, as if the file did not have it.
SCORE_CHECKS = {
    "labels": lambda v: isinstance(v, list) and all(isinstance(label, str) for label in v),
    "count": _count, "accuracy": _finite, "precision": _averages, "recall": _averages, "f1": _averages,
    "per_class": _per_class, "history": _history,
    "step_losses": lambda v: isinstance(v, list) and all(_real(loss) for loss in v),
    "final_pass_losses": lambda v: isinstance(v, list) and all(
        isinstance(pair, list) and len(pair) == 2 and all(_real(x) for x in pair) for pair in v),
}


def clean_scores(values: dict) -> dict:
    """`values` without the scores that have the wrong shape, and without a confusion matrix that is not
    one whole count per pair of its labels (a tampered or damaged metrics.json)."""
    kept = {key: value for key, value in values.items() if key not in SCORE_CHECKS or SCORE_CHECKS[key](value)}
    size = len(kept.get("labels") or ())
    matrix = kept.get("confusion_matrix")
    if matrix is not None and not (isinstance(matrix, list) and len(matrix) == size and all(
            isinstance(row, list) and len(row) == size and all(_count(n) for n in row) for row in matrix)):
        del kept["confusion_matrix"]
    return kept


def _fits(value: Any, spec_field) -> bool:
    """Whether a JSON value has the type the field is annotated with (None aside: an optional field is
    left at its default); a float field takes an int, a bool only a bool field."""
    hint = _field_hints()[spec_field.name]
    kinds = [a for a in get_args(hint) if a is not type(None)] if get_origin(hint) in (Union, UnionType) else [hint]
    wanted = tuple(get_origin(kind) or kind for kind in kinds)
    wanted += (int,) if float in wanted else ()
    return isinstance(value, wanted) and (bool in wanted or not isinstance(value, bool))


@functools.cache
def _field_hints() -> dict[str, Any]:
    return get_type_hints(RunRecord)


def read_record(folder: Path) -> RunRecord:
    """The run saved in `folder`: its metrics.json, or an empty record when that is missing or
    damaged (the metrics are only shown: they must never stop a model from loading)."""
    folder = Path(folder)
    try:
        metrics = read_json(folder / METRICS_FILE, METRICS_BYTES)
    except JsonProblem:  # missing, unreadable, too large, nested too deeply...
        metrics = {}
    try:
        created = (folder / "config.json").stat().st_mtime
    except OSError:
        created = 0.0
    return RunRecord.from_metrics(metrics, folder, created)


def read_run(folder: Path) -> RunRecord | None:
    """The run in `folder`, or None when it holds no model (no config.json)."""
    return read_record(folder) if (Path(folder) / "config.json").is_file() else None


def list_runs(dataset_root: Path | None) -> list[RunRecord]:
    """Runs of a dataset, most recent first (what killed saves left behind is removed first)."""
    if dataset_root is None or not (Path(dataset_root) / MODELS).is_dir():
        return []
    remove_stale_staging(Path(dataset_root) / MODELS)
    runs = [read_run(p) for p in (Path(dataset_root) / MODELS).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted((r for r in runs if r is not None), key=lambda r: r.created, reverse=True)


def new_run_dir(dataset_root: Path, mode: str, base_model: str) -> Path:
    """`models/2026-11-23_1405_quick_whisper-tiny-en`: sortable, and says what it is."""
    base = re.sub(r"[^\w.\-]+", "-", Path(base_model.rstrip("/")).name).strip("-") or "model"
    stem = f"{time.strftime('%Y-%m-%d_%H%M%S')}_{mode}_{base}"
    folder, n = Path(dataset_root) / MODELS / stem, 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"{stem}-{n}")
    return folder


def rename_run(folder: Path, new_name: str) -> Path:
    """Give a trained model folder a new name beside it; returns the new path. Only a model
    IntentDesk trained is renamed, never onto something that exists, never out of its folder."""
    folder, name = Path(folder), new_name.strip()
    if not name or name in (".", "..") or name.startswith(".") or re.search(r"[/\\:\x00-\x1f]", name):
        raise TrainingError(f"{new_name!r} cannot be a folder name; use letters, digits, spaces, - or _ "
                            "(not starting with a dot)")
    if folder.is_symlink() or not is_trained_model(folder):
        raise TrainingError(f"{folder}: not a model trained by IntentDesk, so it is not renamed")
    target = folder.with_name(name)
    if target == folder:
        return folder
    if target.exists() or target.is_symlink():
        raise TrainingError(f"{target}: already exists; choose another name")
    folder.rename(target)
    return target


def delete_run(folder: Path) -> None:
    """Delete a trained model folder; refuses anything IntentDesk did not train (see `is_trained_model`)."""
    remove_model_folder(Path(folder))
