"""What one training run works with: its data (`PreparedData`: the dataset split, its clips decoded, labels
as ids) and everything each stage takes (`TrainingRun`: the model, data, settings, progress and record)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from intentdesk.core.data.split import split_clips
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import TrainingError
from intentdesk.core.events import Progress, Stage
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models.inputs import InputBuilder, load_waves
from intentdesk.core.runs import RunRecord


@dataclass
class PreparedData:
    """Decoded clips of both sides of the split, with labels as ids into `labels`."""

    labels: list[str]
    train_waves: list[np.ndarray]
    train_y: torch.Tensor
    eval_waves: list[np.ndarray]
    eval_y: torch.Tensor
    train_names: list[str] = field(default_factory=list)
    eval_names: list[str] = field(default_factory=list)


def prepare_data(store: DatasetStore, settings: TrainSettings, rate: int, progress: Progress) -> PreparedData:
    """Split the dataset (per label, by `eval_share` and `seed`) and decode every clip at `rate`,
    cut to `max_seconds`; an unreadable clip stops training, named."""
    labels = store.labels()
    train, evaluation = split_clips(store.clips, settings.eval_share, settings.seed)
    progress.stage(Stage.LOADING_AUDIO, "Loading audio")
    names = [c.file_name for c in train + evaluation]
    waves, errors = load_waves([store.path_of(c) for c in train + evaluation], rate, settings.max_seconds, names)
    if errors:
        raise TrainingError(f"cannot train: {len(errors)} clip(s) cannot be read: " + "; ".join(errors[:5]))
    index = {label: i for i, label in enumerate(labels)}
    n = len(train)
    return PreparedData(
        labels=labels,
        train_waves=waves[:n], train_y=torch.tensor([index[c.label] for c in train]),
        eval_waves=waves[n:], eval_y=torch.tensor([index[c.label] for c in evaluation]),
        train_names=names[:n], eval_names=names[n:],
    )


@dataclass
class TrainingRun:
    """One run in progress. `record` fills in as it goes (history, step losses, best epoch,
    cancelled) and is what gets saved as metrics.json. A stage with other settings (full mode's
    warm start) is `dataclasses.replace(run, settings=...)`: same record, progress and cancel."""

    model: Any  # a transformers audio-classification model
    builder: InputBuilder
    data: PreparedData
    settings: TrainSettings
    device: torch.device
    progress: Progress
    cancel: threading.Event
    record: RunRecord
