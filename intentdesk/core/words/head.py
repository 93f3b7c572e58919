"""The words head: intent probabilities from sentence embeddings, and how close a text is to training.

A multinomial logistic regression (trained in torch with L-BFGS, L2-regularised, classes
balanced) over unit-length sentence embeddings. Embeddings of different wordings of one intent
lie close together, so a linear head learned on a few phrasings carries over to new ones far
better than the sound model does. The head also keeps a "bank" of the distinct training
embeddings: `max_similarity` (the cosine to the nearest training text) is what the
out-of-scope rule uses, with the optional `background` bank (embeddings of everyday sentences
that are no intent, see `background`). Inference is NumPy matrix products; no torch needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from intentdesk.core.words.checks import check_head

WEIGHT_DECAY = 1e-3  # L2 on the weights; validation accuracy was flat from 1e-4 to 1e-3 (BENCHMARKS.md)
MAX_ITERATIONS = 200


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class WordsHead:
    """Trained head: `weight` (labels x dim), `bias` (labels), `bank` (texts x dim) with `bank_labels`,
    and `background` (sentences x dim; empty in words parts made before it existed)."""

    labels: list[str]
    weight: np.ndarray
    bias: np.ndarray
    bank: np.ndarray
    bank_labels: np.ndarray
    info: dict = field(default_factory=dict)
    background: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return int(self.weight.shape[1])

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(embeddings, np.float32) @ self.weight.T + self.bias

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return softmax(self.logits(embeddings))

    def max_similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """Cosine similarity of each (unit) embedding to the nearest training text; 1.0 = seen."""
        embeddings = np.asarray(embeddings, np.float32)
        if not len(self.bank):
            return np.zeros(len(embeddings), np.float32)
        return (embeddings @ self.bank.T).max(axis=1)

    def background_margin(self, embeddings: np.ndarray, similarity: np.ndarray | None = None) -> np.ndarray | None:
        """`similarity` (default: `max_similarity`, pass it when already computed) minus the cosine
        to the nearest background sentence: below zero, a text is nearer small talk than any intent.
        None when the head has no background bank."""
        if self.background is None or not len(self.background):
            return None
        embeddings = np.asarray(embeddings, np.float32)
        similarity = self.max_similarity(embeddings) if similarity is None else np.asarray(similarity)
        return similarity - (embeddings @ self.background.T).max(axis=1)

    def tensors(self) -> dict[str, np.ndarray]:
        tensors = {"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32),
                   "bank": self.bank.astype(np.float32), "bank_labels": self.bank_labels.astype(np.int64)}
        if self.background is not None and len(self.background):
            tensors["background"] = self.background.astype(np.float32)
        return tensors

    @classmethod
    def from_tensors(cls, labels: Sequence[str], tensors: dict[str, np.ndarray], info: dict | None = None) -> WordsHead:
        """A stored head, every tensor checked first (`checks.check_head`: `BadEntry` names the one that is
        not sensible)."""
        arrays = check_head(len(labels), tensors)
        return cls(list(labels), arrays["weight"], arrays["bias"], arrays["bank"], arrays["bank_labels"], info or {},
                   arrays.get("background"))


def distinct_rows(embeddings: np.ndarray, labels: np.ndarray, tolerance: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated (embedding, label) pairs: eight voices saying one phrase often give one transcript."""
    keys = np.round(np.asarray(embeddings, np.float32) / tolerance ** 0.5).astype(np.int64)
    seen: dict[tuple, int] = {}
    for i, (row, label) in enumerate(zip(keys, labels)):
        seen.setdefault((int(label), row.tobytes()), i)
    keep = np.array(sorted(seen.values()), dtype=np.int64)
    return np.asarray(embeddings, np.float32)[keep], np.asarray(labels, np.int64)[keep]


def train_head(embeddings: np.ndarray, labels: Sequence[int] | np.ndarray, label_names: Sequence[str], *,
               sample_weight: np.ndarray | None = None, weight_decay: float = WEIGHT_DECAY,
               max_iterations: int = MAX_ITERATIONS, progress: Callable[[int, int], None] | None = None) -> WordsHead:
    """Fit the head on (embedding, label index) pairs: transcripts of training clips, typed phrases.

    Classes are balanced (each label's examples weigh as much in total), so a label with many
    recordings does not swallow the others. Deterministic for the same input.
    """
    import torch

    started = time.perf_counter()
    x = torch.as_tensor(np.asarray(embeddings, np.float32))
    y = torch.as_tensor(np.asarray(labels, np.int64))
    n_labels = len(label_names)
    if x.ndim != 2 or len(x) != len(y) or not len(x):
        raise ValueError(f"need one embedding row per label, got {tuple(x.shape)} rows and {len(y)} labels")
    if int(y.min()) < 0 or int(y.max()) >= n_labels:
        raise ValueError(f"label indices must be 0..{n_labels - 1}")
    w = torch.ones(len(y)) if sample_weight is None else torch.as_tensor(np.asarray(sample_weight, np.float32))
    counts = torch.zeros(n_labels).index_add_(0, y, w)
    w = w / counts[y].clamp(min=1e-9)
    w = w / w.sum()
    weight = torch.zeros(n_labels, x.shape[1], requires_grad=True)
    bias = torch.zeros(n_labels, requires_grad=True)
    present = counts > 0  # a label with no example keeps a very low bias: never predicted
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iterations, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)
    steps = [0]

    def closure():
        optimizer.zero_grad()
        logits = (x @ weight.T + bias).masked_fill(~present, -30.0)
        loss = (torch.nn.functional.cross_entropy(logits, y, reduction="none") * w).sum()
        loss = loss + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        steps[0] += 1
        if progress:
            progress(min(steps[0], max_iterations), max_iterations)
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        final_bias = bias.masked_fill(~present, -30.0)
    bank, bank_labels = distinct_rows(x.numpy(), y.numpy())
    info = {"examples": len(y), "distinct_texts": len(bank), "weight_decay": weight_decay,
            "seconds": round(time.perf_counter() - started, 3), "steps": steps[0]}
    return WordsHead(list(label_names), weight.detach().numpy().copy(), final_bias.numpy().copy(),
                     bank, bank_labels, info)
