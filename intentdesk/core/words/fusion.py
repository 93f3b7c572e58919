"""Calibrated late fusion of the sound and words probabilities, and the out-of-scope rule.

Each model's probabilities are temperature-scaled (one temperature each, fitted on the eval
split by minimising the negative log-likelihood), then combined as a weighted product of
experts: fused = softmax((1 - w) * log p_sound / T_sound + w * log p_words / T_words).

A clip is "uncertain" (out of scope) when its transcript is far from every training text
(`max_similarity < min_similarity`), nearer the everyday "background" sentences than the training
texts by more than a margin (`background margin < min_margin`, see `background`), or the fused
top probability is low (`top < min_top`).
All functions take and return NumPy arrays (rows = clips, columns = labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

EPSILON = 1e-7
# The words' share of the fused log-probabilities. Not fitted per model: a model's eval split holds the
# wordings it was trained on, where sound is right 99 % of the time, so a weight fitted there (0.35)
# trusts sound on new wordings too, where it is right 38-68 %. 0.7 minimised the mean NLL over two
# validation corpora by voices in neither the dev nor the test corpora, one of the known wordings, one of
# new ones, for a Quick and a Full model alike (BENCHMARKS.md 8c).
DEFAULT_WORDS_WEIGHT = 0.7
# The sharpest temperature calibration may give (see fit_temperature): chosen on the validation corpus with a
# Full-mode model whose eval split is separable (validation accuracy 0.705 at its fitted 0.04, 0.752 at
# 0.1, 0.771 at 0.2, 0.767 at 0.3); Quick models fit 0.27-0.30 there, above it.
MIN_TEMPERATURE = 0.2
# Out of scope: a fused top probability below this (calibrated) is "uncertain" whatever the words.
DEFAULT_MIN_TOP = 0.25


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, np.float64), EPSILON, 1.0))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def scale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probabilities (T > 1 softens, T < 1 sharpens)."""
    return softmax(log_probabilities(probabilities) / float(temperature))


def nll(probabilities: np.ndarray, labels: np.ndarray) -> float:
    labels = np.asarray(labels, np.int64)
    return float(-log_probabilities(probabilities)[np.arange(len(labels)), labels].mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray, low: float = MIN_TEMPERATURE,
                    high: float = 20.0) -> float:
    """The temperature in [low, high] that minimises the NLL of `labels` (a log-spaced grid, then a
    finer one).

    `low` matters when every clip is right with a margin (a Full-mode model on its eval split): the
    NLL then falls all the way to T -> 0, and a model "calibrated" that sharp outvotes the words on
    every new wording it gets wrong (BENCHMARKS.md 8c: a Full model fitted at 0.04)."""
    grid = np.geomspace(low, high, 60)
    best = min(grid, key=lambda t: nll(scale(probabilities, t), labels))
    fine = np.geomspace(max(low, best / 1.15), min(high, best * 1.15), 31)
    return float(min(fine, key=lambda t: nll(scale(probabilities, t), labels)))


def widen(sound: np.ndarray, labels: int) -> np.ndarray:
    """Sound probabilities over the first of `labels` intents, widened to all of them: an intent with typed
    phrases and no recordings was never heard by the sound model, so it gets the share the sound model is
    unsure about (1 - its top score), split evenly among such intents, and the heard ones the rest in their
    own proportions. A sure sound model leaves little room for an intent it does not know; an unsure one,
    much (rows still sum to 1)."""
    sound = np.asarray(sound, np.float64)
    unheard = labels - sound.shape[-1]
    if unheard <= 0:
        return sound
    room = np.clip(1.0 - sound.max(axis=-1, keepdims=True), EPSILON, 1.0)
    return np.concatenate([sound * (1.0 - room), np.repeat(room / unheard, unheard, axis=-1)], axis=-1)


def fuse(sound: np.ndarray, words: np.ndarray, words_weight: float, t_sound: float = 1.0,
         t_words: float = 1.0) -> np.ndarray:
    """Weighted product of the two calibrated experts; `words_weight` 0 = sound only, 1 = words only.
    The words may know more intents than the sound (typed phrases only): the sound is `widen`ed to them."""
    sound = widen(sound, np.asarray(words).shape[-1])
    w = float(words_weight)
    mixed = (1.0 - w) * log_probabilities(sound) / t_sound + w * log_probabilities(words) / t_words
    return softmax(mixed).astype(np.float32)


def other_intent_similarity(embeddings: np.ndarray, labels: np.ndarray, bank: np.ndarray,
                            bank_labels: np.ndarray) -> np.ndarray:
    """Each clip's cosine to the nearest training text of ANOTHER intent: how close an in-scope text
    gets to texts it does not share wording with. Its low quantile is the out-of-scope threshold
    (a clip farther than that from every training text is unlike anything in scope)."""
    similarity = np.asarray(embeddings, np.float32) @ np.asarray(bank, np.float32).T
    similarity[np.asarray(labels)[:, None] == np.asarray(bank_labels)[None, :]] = -1.0
    return similarity.max(axis=1) if similarity.shape[1] else np.zeros(len(similarity), np.float32)


def share_threshold(values: np.ndarray, share: float) -> float:
    """The threshold below which `share` of `values` fall (flags about that share of them)."""
    values = np.asarray(values, np.float64)
    return float(np.quantile(values, share)) if len(values) else 0.0


@dataclass
class FusionSettings:
    """What `words_config.json` stores about fusion and out of scope."""

    words_weight: float = DEFAULT_WORDS_WEIGHT
    t_sound: float = 1.0
    t_words: float = 1.0
    min_similarity: float = 0.0
    min_top: float = DEFAULT_MIN_TOP
    min_margin: float | None = None  # None: no background rule (words parts made before it existed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FusionSettings:
        return cls(**{key: None if data[key] is None else float(data[key])
                      for key in cls.__dataclass_fields__ if key in data})

    def fuse(self, sound: np.ndarray, words: np.ndarray) -> np.ndarray:
        return fuse(sound, words, self.words_weight, self.t_sound, self.t_words)

    def uncertain(self, fused: np.ndarray, similarity: np.ndarray, margin: np.ndarray | None = None) -> np.ndarray:
        """True for clips to answer "uncertain": far from every training text, nearer the background
        sentences than the training texts (`margin`, when the head has a background), or a low top score."""
        top = np.asarray(fused).max(axis=-1)
        flagged = (np.asarray(similarity) < self.min_similarity) | (top < self.min_top)
        if margin is not None and self.min_margin is not None:
            flagged |= np.asarray(margin) < self.min_margin
        return flagged
