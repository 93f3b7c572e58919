"""Classification results as plain data, and the file formats they are exported in (no torch, no Qt)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from intentdesk.core.csv_cells import safe_cell
from intentdesk.core.files import atomic_open

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

