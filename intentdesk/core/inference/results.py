"""Classification results as plain data, and the file formats they are exported in (no torch, no Qt)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from intentdesk.core.files import atomic_open

CSV_COLUMNS = ("file", "top_intent", "score", "second_intent", "second_score", "latency_ms", "error")


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

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        answer = {"file": self.file, "ranking": [p.as_dict() for p in self.ranking or []],
                  "latency_ms": round(self.latency_ms, 3)}
        return {**answer, "note": self.note} if self.note else answer


def with_extension(path: Path, suffix: str) -> Path:
    """`path`, with `suffix` added when the typed name has none (a save dialog may return "results")."""
    path = Path(path)
    return path if path.suffix else path.with_name(path.name + suffix)


def csv_row(result: FileResult) -> list[str]:
    """One spreadsheet row: the file, its two best intents with scores, latency, and the error if any."""
    top = [*(result.ranking or []), None, None]
    cells = [result.file]
    for prediction in top[:2]:
        cells += [prediction.label, f"{prediction.score:.4f}"] if prediction else ["", ""]
    return cells + ["" if result.error else f"{result.latency_ms:.1f}", result.error or ""]


def write_results_csv(results: Sequence[FileResult], path: Path) -> Path:
    """Write results as CSV (one row per file, `CSV_COLUMNS`), atomically; returns the path written,
    which ends in `.csv` when the given name had no extension."""
    path = with_extension(path, ".csv")
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_row(result) for result in results)
    return path

