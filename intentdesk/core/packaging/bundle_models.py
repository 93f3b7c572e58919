"""Putting model folders into a frozen app (`make dist MODELS="DIR..."`), for a build handed to someone
offline: each folder is checked, sorted into its role (base model, speech recogniser, text encoder),
copied (model files only) into the app's `models/` and listed in `models/bundled.json`, which
`intentdesk.core.models.bundled` reads at run time.

A folder from the Hugging Face cache (`models--ORG--NAME/snapshots/REV`) stands for its own hub id;
any other folder (one saved with save_pretrained) stands for its role's default.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.models import bundled, references
from intentdesk.core.models.catalogue import (
    BASE_MODEL,
    RECOGNISER,
    RECOGNISER_ARCHITECTURES,
    TEXT_ENCODER,
    Role,
    check_folder,
)
from intentdesk.core.packaging.linux import PackagingError


def role_of(folder: Path) -> Role:
    """The role a model folder can fill: a text encoder, a speech recogniser (by its architecture),
    else a base model; `PackagingError` saying why when it is none of them."""
    problems = []
    for role in (TEXT_ENCODER, RECOGNISER, BASE_MODEL):
        try:
            check_folder(role, folder)
        except ModelError as error:
            problems.append(first_line(error))
            continue
        if role is RECOGNISER and not _names_a_recogniser(folder):
            continue  # no architectures listed: it could be either, and a base model is the safer guess
        return role
    raise PackagingError(f"{folder}: not a model folder the app can use ({problems[-1]})")


def _names_a_recogniser(folder: Path) -> bool:
    names = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    return any(isinstance(name, str) and name.endswith(RECOGNISER_ARCHITECTURES) for name in names)


def stands_for(folder: Path, role: Role) -> str:
    """The hub id a bundled folder answers to (see the module's docstring)."""
    snapshot = folder.resolve()
    repo = snapshot.parent.parent.name
    if snapshot.parent.name == "snapshots" and repo.startswith("models--"):
        return repo[len("models--"):].replace("--", "/", 1)
    return role.default


def bundle_models(folders: list[Path], app: Path) -> dict[str, dict[str, str]]:
    """Copy `folders` into `app/models/` (replacing what an earlier build put there) and write its
    manifest; returns the manifest's entries. Two folders for the same hub id are refused."""
    target = app / bundled.FOLDER
    shutil.rmtree(target, ignore_errors=True)
    if not folders:
        return {}
    entries: dict[str, dict[str, str]] = {}
    for folder in (Path(f).expanduser() for f in folders):
        if not folder.is_dir():
            raise PackagingError(f"{folder}: model folder not found (MODELS names folders saved with "
                                 "save_pretrained, or Hugging Face cache snapshots)")
        role = role_of(folder)
        repo_id = stands_for(folder, role)
        if repo_id in entries:
            raise PackagingError(f"{folder}: a second folder for {repo_id} ({role.noun}); give one per model")
        name = repo_id.replace("/", "--")
        references.copy_model_files(folder, target / name)
        entries[repo_id] = {"folder": name, "role": role.key}
    (target / bundled.MANIFEST).write_text(json.dumps({"models": entries}, indent=2), encoding="utf-8")
    return entries
