"""What the epoch loop trains (a `Task`): the protocol, full mode's `FullTask`, and the parameter groups.

Two modes differ only in their task: full mode trains the whole backbone (convolutional front end
frozen) on waveforms; quick mode (`pooled.PooledTask`, `quick.QuickTask`) only its head or top
layer(s), on cached backbone output.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.learning.prepared import TrainingRun
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models.backbone import HEAD_MODULES
from intentdesk.core.models.inputs import length_buckets


class Task(Protocol):
    """What the epoch loop trains: a module, its parameter groups and a way to get logits."""

    module: torch.nn.Module

    def param_groups(self, settings: TrainSettings) -> list[dict]: ...
    def train_batches(self, rng: np.random.Generator, batch_size: int) -> list[list[int]]: ...
    def eval_batches(self, batch_size: int) -> list[list[int]]: ...
    def logits(self, indices: list[int], training: bool) -> torch.Tensor: ...
    def apply(self, state: dict) -> None:
        """Load weights the loop kept (`module.state_dict()` form) into the model being trained."""
    def learn_from_all(self, run: TrainingRun, chosen: dict) -> bool | None:
        """Train once more on the training and eval clips together for the saved model (`chosen`, the
        weights the eval split picked, stays when cancelled): whether it ran to the end; None for a
        task without that pass (`final_pass_on_all_clips` then changes nothing)."""


class FullTask:
    """Fine-tune the whole model on waveforms, front end frozen, length-bucketed batches."""

    def __init__(self, run: TrainingRun) -> None:
        self.module = run.model
        self.builder = run.builder
        self.data = run.data
        self.device = run.device
        self.speed_factors = (1.0, *[f for f in run.settings.speed_perturbation if f != 1.0])
        self._waves = {True: run.data.train_waves, False: run.data.eval_waves}

    def param_groups(self, settings: TrainSettings) -> list[dict]:
        return split_head_params(self.module, settings)

    def train_batches(self, rng, batch_size):
        """Each epoch, every training clip plays at a randomly chosen speed (speed perturbation)."""
        if len(self.speed_factors) > 1:
            choice = rng.integers(0, len(self.speed_factors), size=len(self.data.train_waves))
            self._waves[True] = [w if self.speed_factors[c] == 1.0 else
                                 audio.change_speed(w, self.builder.rate, self.speed_factors[c])
                                 for w, c in zip(self.data.train_waves, choice)]
        return length_buckets([len(w) for w in self._waves[True]], batch_size, rng)

    def eval_batches(self, batch_size):
        return length_buckets([len(w) for w in self.data.eval_waves], batch_size)

    def logits(self, indices, training):
        waves = self._waves[training]
        with torch.autocast(self.device.type, enabled=False):  # feature extractors need float32
            inputs = self.builder.build([waves[i] for i in indices])
        return self.module(**{k: v.to(self.device) for k, v in inputs.items()}).logits

    def apply(self, state: dict) -> None:
        self.module.load_state_dict(state)

    def learn_from_all(self, run: TrainingRun, chosen: dict) -> None:
        """No final pass when the whole model is fine-tuned: only the pooled head's training is cheap
        enough to run twice."""
        return None


def split_head_params(module: torch.nn.Module, settings: TrainSettings) -> list[dict]:
    """Two groups: the fresh head learns fast, the pretrained body slowly; no decay on norms/biases."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, param in module.named_parameters():
        if not param.requires_grad:
            continue
        is_head = name.split(".")[0] in HEAD_MODULES
        decays = param.ndim >= 2
        groups.setdefault((is_head, decays), []).append(param)
    return [
        {"params": params,
         "lr": settings.head_learning_rate if is_head else settings.learning_rate,
         "weight_decay": settings.weight_decay if decays else 0.0}
        for (is_head, decays), params in groups.items()
    ]
