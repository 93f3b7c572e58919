"""The words part of a model folder at inference time (see `intentdesk.core.words`).

A model trained with words has `MODEL/words/` beside its sound model. The classifier loads it
when it is there; the recogniser then transcribes the clips the sound model has just scored (the
same batch, resampled to 16 kHz when the sound model reads another rate), and the fused
probabilities give the ranking. When the words part cannot be loaded (its recogniser or text
encoder missing, offline, damaged, its files not sensible...) or fails on some clips, the model
still classifies by sound only, and each answer says so and why (`Scores.problem`, then
`FileResult.words_problem`): `load_words_part` names the part that failed and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intentdesk.core.audio import SAMPLE_RATE
from intentdesk.core.audio import io as audio
from intentdesk.core.errors import IntentDeskError, first_line
from intentdesk.core.words.fusion import widen

SOUND_ONLY = "so this model classifies by sound only"
SOUND_FOR_THESE = "so this answer is by sound only"


@dataclass
class ClipScore:
    """One clip's scores as a ranking needs them: fused probabilities when the model has words."""

    probabilities: np.ndarray
    transcript: str | None = None
    uncertain: bool = False
    problem: str | None = None  # the model's words part was not used for this clip (why): its answer is by sound only

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """As an array, a clip's score is its probabilities (what sound-only callers always got)."""
        return np.asarray(self.probabilities, dtype=dtype)


@dataclass
class Scores:
    """Many clips' scores: `probabilities` (what ranks: fused with words, else sound), `sound`, and
    with words the words-only probabilities, the transcripts and the uncertain flags."""

    probabilities: np.ndarray
    sound: np.ndarray
    words: np.ndarray | None = None
    transcripts: list[str | None] | None = None
    uncertain: np.ndarray | None = None
    problem: str | None = None

    def clip(self, i: int) -> ClipScore:
        return ClipScore(self.probabilities[i], self.transcripts[i] if self.transcripts else None,
                         bool(self.uncertain[i]) if self.uncertain is not None else False, self.problem)

    def rows(self) -> list[ClipScore]:
        return [self.clip(i) for i in range(len(self.probabilities))]


def load_words_part(model_dir: Path, labels: list[str], device: str = "cpu"):
    """(WordsModel or None, why not or None): None, None for a model without a words part."""
    from intentdesk.core.words.layout import has_words

    if not has_words(model_dir):
        return None, None
    from intentdesk.core.words.pipeline import WordsModel

    try:
        return WordsModel.load(model_dir, labels, device=device), None
    except Exception as error:  # noqa: BLE001 - any failure here must leave the sound model usable
        return None, f"the words part of this model could not be loaded, {SOUND_ONLY}: {reason(error)}"


def reason(error: BaseException) -> str:
    """Why the words part failed, in one line: a user-facing error says it all; anything else is named
    as unexpected (the words part's files are checked when it loads, so it is a bug or the machine)."""
    if isinstance(error, IntentDeskError):
        return first_line(error, 400)
    return (f"unexpected {type(error).__name__} ({first_line(error, 120)}); if it happens again, train the model "
            "again or delete its words folder")


def describe_words(words) -> dict:
    """What a loaded words part needs (for `Classifier.info`)."""
    if words is None:
        return {}
    return {"recogniser": words.transcriber.source, "text_encoder": words.encoder.source,  # as loaded: a
            "recogniser_changed": words.recogniser_changed}                              # bundled copy's path


def with_words(words, waves: Sequence[np.ndarray], rate: int, sound: np.ndarray, problem: str | None = None) -> Scores:
    """Fuse the sound probabilities of `waves` (at `rate`) with the words part's; sound only when there is
    none (with `problem`, why, when the model has one that did not load). Clips whose sound scores are not
    numbers are not transcribed (they fail anyway). A failure of the words part on these clips (an error, or
    scores that are not numbers) answers by sound only, with `problem` saying why."""
    sound = np.asarray(sound, np.float32)
    if words is None or not len(waves):
        return Scores(sound, sound, problem=problem)
    usable = np.flatnonzero(np.isfinite(sound).all(axis=-1))
    fused = widen(sound, len(words.head.labels)).astype(np.float32)  # intents from typed phrases alone too
    by_words = np.full_like(fused, np.nan)
    transcripts: list[str | None] = [None] * len(waves)
    uncertain = np.zeros(len(waves), bool)
    if len(usable):
        heard = [waves[i] if rate == SAMPLE_RATE else audio.resample(waves[i], rate, SAMPLE_RATE) for i in usable]
        try:
            result = words.score(heard, sound[usable])
        except Exception as error:  # noqa: BLE001 - the sound answer still stands
            return Scores(sound, sound, problem=f"the words part failed, {SOUND_FOR_THESE}: {reason(error)}")
        if not np.isfinite(result.probabilities).all():
            return Scores(sound, sound, problem=f"the words part gave scores that are not numbers, {SOUND_FOR_THESE}; "
                                                "train the model again or delete its words folder")
        fused[usable], by_words[usable] = result.probabilities, result.words_probabilities
        uncertain[usable] = result.uncertain
        for i, text in zip(usable, result.transcripts):
            transcripts[i] = text
    return Scores(fused, sound, by_words, transcripts, uncertain)
