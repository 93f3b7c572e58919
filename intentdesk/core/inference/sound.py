"""The sound model's scores: softmax probabilities of waves, in the fastest number format that agrees
with float32 on this machine (`precision.choose`, remembered per machine), falling back to float32 for
good when a fast format fails at run time, so a missing kernel never costs the user a result."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.inference.model_folder import load_float32
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.models.precision import inputs_for
from intentdesk.core.models.precision.choice import Choice, ChoiceMemo, choose


class SoundModel:
    """A checked model folder's sound model on `device`. Thread-safe: one forward pass at a time."""

    def __init__(self, folder: Path, builder: InputBuilder, device: torch.device, precision: str = "auto") -> None:
        self.folder, self.builder, self.device = folder, builder, device
        reference = load_float32(folder, builder.feature_extractor, device)
        self.config = reference.config
        self._lock = threading.Lock()
        memo = ChoiceMemo(folder) if precision == "auto" else None
        self.choice = choose(reference, self._forward, builder.rate, device, precision,
                             remembered=memo.read() if memo else None)
        if memo and not self.choice.remembered:
            memo.write(self.choice.precision)
        self.model = self.choice.model

    @property
    def precision(self) -> str:
        return self.choice.precision

    def _forward(self, model: torch.nn.Module, waves: list[np.ndarray]) -> torch.Tensor:
        return model(**inputs_for(model, self.builder.build(waves), self.device)).logits.float().softmax(-1).cpu()

    def scores(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Softmax probabilities of one forward pass, one row per wave (at `builder.rate`, mono float32)."""
        with self._lock, torch.inference_mode():
            try:
                return self._forward(self.model, list(waves)).numpy()
            except RuntimeError:
                if self.precision == "fp32":
                    raise
            # A fast format that fails on some input (an op without a bf16/int8 kernel here)
            # must never cost the user a result: fall back to float32 for good.
            self.model = load_float32(self.folder, self.builder.feature_extractor, self.device)
            self.choice = Choice("fp32", self.model, self.choice.timings_ms,
                                 {**self.choice.rejected, self.precision: "failed at run time"})
            return self._forward(self.model, list(waves)).numpy()

    def scores_many(self, waves: Sequence[np.ndarray], batch_size: int = 8,
                    on_progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Scores of many waves in length-bucketed batches (the same scores as one by one)."""
        probabilities = np.zeros((len(waves), self.config.num_labels), np.float32)
        batches = self.builder.inference_batches([len(w) for w in waves], max(1, batch_size))
        for n, batch in enumerate(batches):
            if on_progress:
                on_progress(n / len(batches))
            probabilities[batch] = self.scores([waves[i] for i in batch])
        return probabilities
