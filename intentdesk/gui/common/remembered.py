"""Choices remembered across restarts: one per dataset folder, or one number, in the app's QSettings.

What a person picked (the model Classify uses for a dataset, the run the Train tab shows, the "uncertain
below" threshold) comes back after a restart. The settings file is the person's but can be damaged or
edited: anything unreadable is taken as nothing remembered, never an error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import QSettings


class PerDataset:
    """A path remembered per dataset folder (`None`'s entry is ""), as JSON under `key`."""

    def __init__(self, settings: QSettings, key: str) -> None:
        self.settings = settings
        self.key = key

    def _all(self) -> dict[str, str]:
        try:
            value = json.loads(self.settings.value(self.key, "{}") or "{}")
        except (TypeError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def get(self, dataset_root: Path | None) -> Path | None:
        folder = self._all().get(str(dataset_root or ""))
        return Path(folder) if isinstance(folder, str) and folder else None

    def set(self, dataset_root: Path | None, folder: Path) -> None:
        chosen = self._all()
        chosen[str(dataset_root or "")] = str(folder)
        self.settings.setValue(self.key, json.dumps(chosen))


def remembered_number(settings: QSettings, key: str, default: float, lowest: float, highest: float) -> float:
    """The number saved under `key` when it is one within [lowest, highest], else `default`."""
    try:
        value = float(settings.value(key, default))
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) and lowest <= value <= highest else default
