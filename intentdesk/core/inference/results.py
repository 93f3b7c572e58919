"""Classification results: a clip's scores made into its answer (`Answers`: ranked, checked to be numbers,
`uncertain` decided), the answer as plain data (`FileResult`), and the file formats it is exported in
(no torch, no Qt)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intentdesk.core.csv_cells import safe_cell
from intentdesk.core.errors import AudioError
from intentdesk.core.files import atomic_open
from intentdesk.core.inference.words_part import ClipScore

CSV_COLUMNS = ("file", "top_intent", "score", "second_intent", "second_score", "latency_ms", "error")
# Added when any result comes from a model with a words part (a sound-only export keeps `CSV_COLUMNS`).
WORDS_COLUMNS = ("transcript", "uncertain")


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float

    def as_dict(self) -> dict:
        return {"label": self.label, "score": self.score}


@dataclass
class FileResult:
    file: str
    ranking: list[Prediction] | None
    latency_ms: float
    error: str | None = None
    note: str | None = None  # e.g. only part of a long clip was used
    transcript: str | None = None  # what the recogniser heard; None when the model has no words part
    uncertain: bool = False  # the words part says: out of scope or not understood
    words_problem: str | None = None  # the model has a words part, not used here (why): ranked by sound only

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        answer = {"file": self.file, "ranking": [p.as_dict() for p in self.ranking or []],
                  "latency_ms": round(self.latency_ms, 3), "transcript": self.transcript,
                  "uncertain": self.uncertain}
        return {**answer, **self.remarks()}

    def remarks(self) -> dict:
        """"note" (only part of a long clip was used) and "words_problem" (by sound only, and why), when they
        apply: what `as_dict` and the service's answer add."""
        return {key: value for key, value in (("note", self.note), ("words_problem", self.words_problem)) if value}


class Answers:
    """Scores as answers for a model whose outputs are `labels`: the one place the CLI, the GUI, live mode
    and the service turn a clip's scores into its result."""

    def __init__(self, labels: Sequence[str], uncertain_below: float | None = None) -> None:
        self.labels = list(labels)
        self.uncertain_below = uncertain_below  # the sound model's own rule (`model_folder.sound_uncertain_below`)

    def rank(self, probabilities: np.ndarray, top_k: int | None = None) -> list[Prediction]:
        probabilities = np.asarray(probabilities)  # a `ClipScore` ranks by its probabilities
        order = np.argsort(-probabilities, kind="stable")[: top_k or len(self.labels)]
        return [Prediction(self.labels[i], float(probabilities[i])) for i in order]

    def check_scores(self, probabilities: np.ndarray, source: str, wave: np.ndarray | None = None) -> None:
        """Raise `AudioError` when a clip's scores are not numbers: a ranking of NaNs would look like an
        answer, and NaN is not valid JSON. When the clip (`wave`, as the model got it) is ordinary sound,
        finite and within ±1, the model is at fault (values in its files that are not numbers), not the audio."""
        if np.all(np.isfinite(probabilities)):
            return
        if wave is not None and np.isfinite(wave).all() and (not wave.size or np.abs(wave).max() <= 1.0):
            raise AudioError(source, "the model gives no usable scores for this clip (not finite numbers), although "
                             "the audio is ordinary sound", "the model folder is damaged (its weights or settings "
                             "hold values that are not numbers): train the model again, or copy it again")
        raise AudioError(source, "the model gives no usable scores for this audio (not finite numbers)",
                         "check that it is ordinary sound with samples between -1 and 1")

    def is_uncertain(self, clip: ClipScore) -> bool:
        """Whether the answer is flagged uncertain, the one place that decides it: the words part's verdict
        (out of scope or not understood) when the words were used, else the sound model's own rule, a top
        score under `uncertain_below` (a sound-only model, or one whose words part failed)."""
        if clip.transcript is not None or self.uncertain_below is None:
            return clip.uncertain
        return bool(np.max(clip.probabilities) < self.uncertain_below)

    def result(self, name: str, scores: np.ndarray | ClipScore, latency_ms: float, note: str | None = None,
               top_k: int | None = None, wave: np.ndarray | None = None) -> FileResult:
        """A clip's scores (probabilities, or a `ClipScore` with its transcript) as its ranked result,
        or as an error when they are not numbers (`check_scores`, told the clip when known). An answer
        by sound only from a model with a words part says why (`words_problem`)."""
        clip = scores if isinstance(scores, ClipScore) else ClipScore(scores)
        try:
            self.check_scores(clip.probabilities, name, wave)
        except AudioError as error:
            return FileResult(name, None, 0.0, str(error))
        return FileResult(name, self.rank(clip.probabilities, top_k), latency_ms, note=note,
                          transcript=clip.transcript, uncertain=self.is_uncertain(clip), words_problem=clip.problem)


def with_extension(path: Path, suffix: str) -> Path:
    """`path`, with `suffix` added when the typed name has none (a save dialog may return "results")."""
    path = Path(path)
    return path if path.suffix else path.with_name(path.name + suffix)


def csv_row(result: FileResult, words: bool = False) -> list[str]:
    """One spreadsheet row: the file, its two best intents with scores, latency, and the error if any;
    with `words`, then the transcript and "yes" when the answer is uncertain."""
    top = [*(result.ranking or []), None, None]
    cells = [result.file]
    for prediction in top[:2]:
        cells += [prediction.label, f"{prediction.score:.4f}"] if prediction else ["", ""]
    cells += ["" if result.error else f"{result.latency_ms:.1f}", result.error or ""]
    return cells + [result.transcript or "", "yes" if result.uncertain else ""] if words else cells


def write_results_csv(results: Sequence[FileResult], path: Path) -> Path:
    """Write results as CSV (one row per file, `CSV_COLUMNS`, plus `WORDS_COLUMNS` when a result has a
    transcript), atomically, no cell a formula (`safe_cell`: labels and file names come from others);
    returns the path written, which ends in `.csv` when the name had no extension."""
    path = with_extension(path, ".csv")
    words = any(result.transcript is not None for result in results)
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS + WORDS_COLUMNS if words else CSV_COLUMNS)
        writer.writerows([safe_cell(cell) for cell in csv_row(result, words)] for result in results)
    return path

