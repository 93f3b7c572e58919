"""Whisper's suppressed tokens as a mask made once, instead of once per generated token.

transformers' `SuppressTokensLogitsProcessor` builds the vocabulary (51,864 entries for Whisper) and
runs `torch.isin` against the ~90 suppressed tokens at every decoding step: 4.8 ms a step on 2 cores,
about 50 of the 268 ms a 3 s clip took to transcribe (profiled, BENCHMARKS.md 13). The mask is the
same at every step, so it is made once per recogniser; scores are masked exactly as before (the same
-inf entries), so transcripts and their cache keys do not change.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from transformers import LogitsProcessor


class SuppressedTokens(LogitsProcessor):
    """Sets the scores of `tokens` to -inf; tokens beyond the vocabulary are never written, so ignored."""

    def __init__(self, tokens: Iterable[int], vocabulary: int) -> None:
        self.mask = torch.zeros(vocabulary, dtype=torch.bool)
        inside = [int(token) for token in tokens if 0 <= int(token) < vocabulary]
        self.mask[inside] = True

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        mask = self.mask[: scores.shape[-1]].to(scores.device)
        return scores.masked_fill(mask, -float("inf"))
