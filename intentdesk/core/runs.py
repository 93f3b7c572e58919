"""Training runs saved under a dataset's `models/` folder: naming and listing them."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

MODELS = "models"


@dataclass(frozen=True)
class RunInfo:
    path: Path
    name: str
    created: float
    mode: str
    base_model: str
    accuracy: float | None
    macro_f1: float | None
    cancelled: bool

    def summary(self) -> str:
        score = f"acc {self.accuracy:.3f}, macro-F1 {self.macro_f1:.3f}" if self.accuracy is not None else "no metrics"
        flag = ", cancelled" if self.cancelled else ""
        return f"{self.name}  ({self.mode}, {score}{flag})"


def new_run_dir(dataset_root: Path, mode: str, base_model: str) -> Path:
    """`models/2026-11-23_1405_quick_whisper-tiny-en`: sortable, and says what it is."""
    base = re.sub(r"[^\w.\-]+", "-", Path(base_model.rstrip("/")).name).strip("-") or "model"
    stem = f"{time.strftime('%Y-%m-%d_%H%M%S')}_{mode}_{base}"
    folder, n = Path(dataset_root) / MODELS / stem, 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"{stem}-{n}")
    return folder


def read_run(folder: Path) -> RunInfo | None:
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        return None
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
    except (OSError, ValueError):
        metrics = {}
    return RunInfo(folder, folder.name, (folder / "config.json").stat().st_mtime, metrics.get("mode", "?"),
                   metrics.get("base_model", "?"), metrics.get("accuracy"), metrics.get("f1", {}).get("macro"),
                   bool(metrics.get("cancelled")))


def list_runs(dataset_root: Path | None) -> list[RunInfo]:
    """Runs of a dataset, most recent first."""
    if dataset_root is None or not (Path(dataset_root) / MODELS).is_dir():
        return []
    runs = [read_run(p) for p in (Path(dataset_root) / MODELS).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted((r for r in runs if r is not None), key=lambda r: r.created, reverse=True)
