"""`TrainingRun`: what every stage of one training run works with, bundled so each function takes one argument."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import torch

from intentdesk.core.events import Progress
from intentdesk.core.learning.prepared import PreparedData
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.runs import RunRecord


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
