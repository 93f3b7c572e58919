"""Whisper's last layer (hidden state -> a score for each of ~52,000 tokens) in half the memory traffic,
with the same greedy transcript.

Writing one token multiplies the decoder's output by the whole vocabulary matrix (51,864 x 384 numbers
for tiny.en, 80 MB in float32): on 2 cores that read took 9.2 ms of each ~15 ms step, more than the four
decoder layers together (measured, BENCHMARKS.md 17). `ShortlistedVocabulary` scores every token in
bfloat16 (half the bytes), then scores again in float32 the `SHORTLIST` best of them that may be written
(suppressed tokens left out), so the best token, the one greedy decoding writes, has its exact float32
score unless bfloat16's rounding pushed it below 32 others: on 600 clips of tiny.en (twice) and 90 of base
the transcripts were those of the plain layer, every one. The cost: a bfloat16 copy of the matrix (40 MB for
tiny.en) while the recogniser is loaded.

Whether it is faster depends on the CPU (bfloat16 kernels exist on some, are emulated on others), so
`fast_vocabulary` times both on this machine when the recogniser loads (~0.1 s) and keeps the plain layer
unless the shortlist is faster.
"""

from __future__ import annotations

import contextlib
import time

import torch

SHORTLIST = 32  # tokens scored again in float32 at each step
FASTER_BY = 0.85  # the shortlist is used where it takes at most this share of the plain layer's time
TIMING_CALLS = 8


class ShortlistedVocabulary(torch.nn.Module):
    """`projection` (a bias-free Linear to the vocabulary) computed in bfloat16, with the `SHORTLIST`
    highest-scoring tokens outside `blocked` (a boolean mask over the vocabulary, or None) computed again
    exactly. Blocked tokens score -inf, as the recogniser's own suppression makes them."""

    def __init__(self, projection: torch.nn.Linear, blocked: torch.Tensor | None) -> None:
        super().__init__()
        self.exact = projection
        self.rough = projection.weight.detach().to(torch.bfloat16)
        self.blocked = blocked

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of the last position only, (batch, 1, vocabulary): all that decoding reads, also of the
        first pass over the prompt's forty-odd positions (scoring them all took 19 ms, the last one 4.4)."""
        last = hidden[..., -1:, :]
        # (a fresh layout: a slice keeps its parent's strides, and bfloat16's matrix product was 12x slower so)
        rough = last.to(torch.bfloat16, memory_format=torch.contiguous_format)
        scores = torch.nn.functional.linear(rough, self.rough).float()
        if self.blocked is not None:
            scores.masked_fill_(self.blocked[: scores.shape[-1]].to(scores.device), -float("inf"))
        best = scores.topk(min(SHORTLIST, scores.shape[-1]), dim=-1).indices
        exact = (self.exact.weight[best] * last.float().unsqueeze(-2)).sum(-1)
        return scores.scatter_(-1, best, exact)


def fast_vocabulary(model, blocked: torch.Tensor | None) -> ShortlistedVocabulary | None:
    """A `ShortlistedVocabulary` for this Whisper model where it is faster here than the plain layer, else
    None. Only for a bias-free projection on the CPU (what transformers' Whisper has)."""
    projection = getattr(model, "proj_out", None)
    if not isinstance(projection, torch.nn.Linear) or projection.bias is not None \
            or projection.weight.device.type != "cpu":
        return None
    try:
        shortlisted = ShortlistedVocabulary(projection, blocked)
        hidden = torch.randn(1, 1, projection.in_features)
        with torch.inference_mode():
            plain, short = _seconds(projection, hidden), _seconds(shortlisted, hidden)
    except RuntimeError:  # no bfloat16 kernel for this here: the plain layer it is
        return None
    return shortlisted if short <= FASTER_BY * plain else None


def _seconds(layer: torch.nn.Module, hidden: torch.Tensor) -> float:
    """The fastest of a few calls after a first one (the least disturbed by other work on the machine)."""
    layer(hidden)
    times = []
    for _ in range(TIMING_CALLS):
        started = time.perf_counter()
        layer(hidden)
        times.append(time.perf_counter() - started)
    return min(times)


@contextlib.contextmanager
def vocabulary_swapped(model, layer: ShortlistedVocabulary | None):
    """`model.proj_out` is `layer` for the block (when there is one), then the model's own again."""
    if layer is None:
        yield
        return
    own = model.proj_out
    model.proj_out = layer
    try:
        yield
    finally:
        model.proj_out = own
