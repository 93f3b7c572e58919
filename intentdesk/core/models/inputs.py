"""Turning waveforms into model inputs, the same way for training and inference.

One place decides padding, truncation and attention masks, so the fast inference path, the
trainer and `pipeline("audio-classification")` all see identical tensors for a clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.models.backbone import window_seconds


@dataclass
class InputBuilder:
    """Wraps a feature extractor: `build(waves)` gives a dict of tensors ready for the model."""

    feature_extractor: object

    @property
    def rate(self) -> int:
        return int(self.feature_extractor.sampling_rate)

    @property
    def input_name(self) -> str:
        return self.feature_extractor.model_input_names[0]

    @property
    def fixed_window(self) -> float | None:
        """Spectrogram models (Whisper) pad every clip to one window; batching then costs nothing."""
        return window_seconds(self.feature_extractor)

    @property
    def uses_attention_mask(self) -> bool:
        return bool(getattr(self.feature_extractor, "return_attention_mask", False))

    @property
    def batches_exactly(self) -> bool:
        """Whether a padded batch scores each clip as it would alone: true for fixed-window and
        attention-masked models; raw-waveform models without a mask see the zero padding."""
        return self.input_name != "input_values" or self.uses_attention_mask

    def inference_batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """Batches whose scores equal one-by-one scores: similar lengths where padding is
        harmless, otherwise only clips of identical length share a forward pass."""
        if self.batches_exactly:
            return length_buckets(lengths, batch_size)
        same: dict[int, list[int]] = {}
        for index, length in enumerate(lengths):
            same.setdefault(int(length), []).append(index)
        return [group[j:j + batch_size] for group in same.values() for j in range(0, len(group), batch_size)]

    def build(self, waves: Sequence[np.ndarray]) -> dict[str, torch.Tensor]:
        kwargs: dict = {"sampling_rate": self.rate, "return_tensors": "pt"}
        if self.input_name == "input_values":
            kwargs["padding"] = "longest"
            kwargs["return_attention_mask"] = self.uses_attention_mask
        encoded = self.feature_extractor(list(waves), **kwargs)
        return {key: value for key, value in encoded.items() if isinstance(value, torch.Tensor)}


def load_waves(paths: Sequence[Path], rate: int, max_seconds: float | None,
               names: Sequence[str] | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Decode and resample clips; longer ones are cut to `max_seconds`. Returns (waves, errors).

    The cut happens at the file's own rate, before resampling: only the part kept is decoded
    and resampled, however long (or oddly sampled) the file is."""
    waves, errors = [], []
    limits = audio.AudioLimits(max_seconds=None)
    for index, path in enumerate(paths):
        name = names[index] if names else str(path)
        try:
            wave, _ = audio.load_audio(Path(path), rate, name=name, limits=limits, cut_seconds=max_seconds or None)
        except audio.AudioError as error:
            errors.append(str(error))
            waves.append(np.zeros(0, np.float32))
            continue
        if max_seconds:
            wave = wave[: int(max_seconds * rate)]
        waves.append(wave)
    return waves, errors


def length_buckets(lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None = None) -> list[list[int]]:
    """Batches of similar length (little padding), in random order when `rng` is given.

    Sorting within random mega-batches of 50 batches keeps training batches varied while
    cutting padding; without `rng` (inference) it is a plain sort by length.
    """
    order = np.arange(len(lengths))
    if rng is not None:
        order = rng.permutation(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        block = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches += [[int(i) for i in block[j:j + batch_size]] for j in range(0, len(block), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches
