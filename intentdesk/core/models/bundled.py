"""Models that come with a packaged app (`make dist MODELS="DIR..."`), so it works offline at once.

They are folders in `models/` beside the frozen executable, listed in `models/bundled.json` by the hub
id each stands for (written by `intentdesk.core.packaging.bundle_models`). A hub id the app carries loads from
the Hugging Face cache when it is downloaded there (a newer download wins), else from the bundled
folder, else from the hub: every loader passes its source through `resolve` first.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from intentdesk.core.json_files import JsonProblem, read_json
from intentdesk.core.models import hub, model_files
from intentdesk.paths import is_frozen

MANIFEST = "bundled.json"
FOLDER = "models"
ENV = "INTENTDESK_BUNDLED_MODELS"  # another bundled-models folder (tests, or a source install)
MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True)
class Bundled:
    """One bundled model: the hub id it stands for, its role (a `catalogue.Role` key), its folder."""

    repo_id: str
    role: str
    folder: Path


def bundled_root() -> Path | None:
    """The bundled-models folder: `models/` beside the frozen executable (INTENTDESK_BUNDLED_MODELS
    overrides it); None for a source install without the override."""
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    if is_frozen():
        return Path(sys.executable).resolve().parent / FOLDER
    return None


def bundled_models() -> dict[str, Bundled]:
    """hub id -> the bundled model, for each entry of the manifest whose folder is there. A damaged
    manifest, or an entry that leads outside the folder, counts as nothing bundled: the app then
    behaves as a build without models (the hub, or a folder the person chooses)."""
    root = bundled_root()
    if root is None or not (root / MANIFEST).is_file():
        return {}
    try:
        entries = read_json(root / MANIFEST, MANIFEST_BYTES).get("models", {})
    except (JsonProblem, AttributeError):
        return {}
    found = {}
    for repo_id, entry in entries.items() if isinstance(entries, dict) else ():
        name, role = (entry.get("folder"), entry.get("role")) if isinstance(entry, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(role, str) or Path(name).name != name or name in ("", ".."):
            continue
        folder = root / name
        if (folder / model_files.CONFIG).is_file():
            found[repo_id] = Bundled(repo_id, role, folder.resolve())
    return found


def bundled_folder(repo_id: str) -> Path | None:
    entry = bundled_models().get(repo_id)
    return entry.folder if entry is not None else None


def resolve(source: str) -> str:
    """What to load for `source`: the bundled folder when `source` is a hub id the app carries and
    the Hugging Face cache does not hold it (config and weights); else `source` unchanged."""
    folder = bundled_folder(source)
    if folder is None or hub.is_downloaded(source):
        return source
    return str(folder)
