"""Where a trained model folder keeps the settings it was trained with.

`run_settings.json`. Folders saved before 2026-11-25 have `training_settings.json` instead: that
name made `datasets.load_dataset("audiofolder", data_dir=DATASET)` fail ("Instruction "train"
corresponds to no data!") as soon as a run was saved inside the dataset's models/ folder, because
the library's split patterns claim any file named "training*" for a "train" split. Both are read.
"""

from __future__ import annotations

from pathlib import Path

SETTINGS_FILE = "run_settings.json"
OLD_SETTINGS_FILE = "training_settings.json"


def settings_file(model_dir: Path) -> Path | None:
    """The model folder's settings file (the current name first), or None when it has none."""
    for name in (SETTINGS_FILE, OLD_SETTINGS_FILE):
        if (Path(model_dir) / name).is_file():
            return Path(model_dir) / name
    return None
