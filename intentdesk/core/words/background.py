"""Everyday sentences that are no intent ("background"), for telling out-of-scope clips apart.

A transcript far from every training text may be out of scope, or an in-scope sentence the
recogniser garbled ("check my malons"): both are far from the training texts. What tells them
apart is what they are *near*: small talk, weather or "hello, is anyone there" lie closer to
everyday sentences than to any intent. So the words head keeps the embeddings of a shipped list
of such sentences (`resources/background_phrases.txt`), and a clip whose transcript is closer to
them than to the training texts by more than a calibrated margin is answered "uncertain".

The list is generic; a dataset whose intents ARE everyday requests ("play some music") must not
have them counted as background, so sentences as close to a training text as texts of one
intent are to each other (`SAME_MEANING`) are left out for that model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FILE_NAME = "background_phrases.txt"
# Cosine (all-MiniLM-L6-v2) from which a background sentence counts as a wording of a training text: in the
# shared dev phrases, 82 % of wordings have another wording of their intent at 0.6 or more, while no
# background sentence comes closer than 0.50 to any of them (0.56 to their transcripts).
SAME_MEANING = 0.6


def background_phrases() -> list[str]:
    """The shipped background sentences (comment lines and blanks skipped); [] when the file is
    missing (a damaged install): the out-of-scope rule then falls back to similarity alone."""
    from intentdesk.resources import resource

    path = resource(FILE_NAME)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def background_bank(encode: Callable[[list[str]], np.ndarray], training_bank: np.ndarray,
                    phrases: list[str] | None = None) -> np.ndarray:
    """Unit embeddings of the background sentences that are not a wording of any training text."""
    phrases = background_phrases() if phrases is None else phrases
    if not phrases:
        return np.zeros((0, training_bank.shape[1]), np.float32)
    embeddings = np.asarray(encode(phrases), np.float32)
    if len(training_bank):
        embeddings = embeddings[(embeddings @ np.asarray(training_bank, np.float32).T).max(axis=1) < SAME_MEANING]
    return embeddings
