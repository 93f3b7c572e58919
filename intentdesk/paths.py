"""Where IntentDesk keeps the user's things, and start-up fixes for a frozen (PyInstaller) app.

A packaged app must never write next to its executable (read-only on macOS, Program Files on
Windows, replaced on every update), so datasets, models and the Hugging Face cache live in the
user's data folder from platformdirs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def data_home() -> Path:
    """The user's IntentDesk folder (INTENTDESK_HOME overrides it)."""
    override = os.environ.get("INTENTDESK_HOME")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("IntentDesk", appauthor=False))


def cache_home() -> Path:
    """Per-user cache folder for things IntentDesk can recompute (INTENTDESK_CACHE overrides it)."""
    override = os.environ.get("INTENTDESK_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("IntentDesk", appauthor=False))


def datasets_home() -> Path:
    folder = data_home() / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prepare_process() -> None:
    """Run first thing in `main`: safe standard streams; in a frozen app, the HF cache in data_home.

    A windowed app (PyInstaller `console=False` on Windows/macOS) has `sys.stdout` and
    `sys.stderr` set to None; tqdm, logging and warnings write to them and would crash.
    """
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    if is_frozen() and "HF_HOME" not in os.environ:
        os.environ["HF_HOME"] = str(data_home() / "huggingface")
