"""Classification results as plain data (no torch import: the GUI and the service build on them)."""

from __future__ import annotations

from dataclasses import dataclass


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
