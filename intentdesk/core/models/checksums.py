"""Checksums of a trained model's weight files: written when IntentDesk saves the model, checked before it loads.

A weight file has no checksum of its own: a safetensors file with a few bits flipped (a failing USB stick, a
copy cut short and padded, a disk error) loads without complaint and ranks intents by damaged numbers. So
`checksums.json` beside config.json records the SHA-256 of each weight file as saved, and a file that no
longer matches is refused, naming it. Only weight files are listed: nobody edits them by hand, while the JSON
settings have checks of their own and may be edited on purpose (an intent's name in `id2label`).

A folder without `checksums.json` (a hub model, one from an earlier IntentDesk) is loaded as before: the
file can detect damage, not prove where a model came from, since whoever can change the weights can change
it too. What it names is untrusted input like the rest of the folder: only files inside the folder are read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath

from intentdesk.core.errors import ModelError
from intentdesk.core.files import atomic_write_bytes
from intentdesk.core.json_files import JsonProblem, read_json

CHECKSUMS = "checksums.json"
ALGORITHM = "sha256"
MAX_BYTES = 1 << 20  # a few dozen names and digests; more is not a checksums file IntentDesk wrote
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# Files this process has checked, by what identifies their contents short of reading them (path, size, change
# time, inode) -> the digest they had: a folder is checked before a slow load and again by the load (`classify`,
# `evaluate`, the GUI opening a model again), and a 300 MB file costs about 0.2 s to hash.
_checked: dict[tuple, str] = {}
ON_PURPOSE = "if you changed the weights yourself on purpose, delete checksums.json to load them unchecked"
DAMAGED = ("its contents differ from when the model was saved (checksums.json): the file is damaged; copy the "
           f"whole model folder again from where it came from, or train again ({ON_PURPOSE})")


def write_checksums(folder: Path, files: list[str]) -> None:
    """Record the digests of `files` (paths relative to `folder`, written already) in `folder/checksums.json`."""
    _write(folder, {name: file_digest(folder / name) for name in files})


def add_checksums(folder: Path, files: list[str]) -> None:
    """A part written into a saved model later (a words part added to it): its digests join the others. A folder
    without checksums.json stays without."""
    if (folder / CHECKSUMS).is_file():
        _write(folder, {**recorded(folder / CHECKSUMS), **{name: file_digest(folder / name) for name in files}})


def _write(folder: Path, digests: dict[str, str]) -> None:
    payload = {"algorithm": ALGORITHM, "files": dict(sorted(digests.items()))}
    atomic_write_bytes(folder / CHECKSUMS, (json.dumps(payload, indent=1) + "\n").encode())


def verify(folder: Path, names: tuple[str, ...] | None = None) -> None:
    """Refuse a weight file of `folder` whose digest differs from the one `checksums.json` records, or that it does
    not list (`names`: the files to check, relative to `folder`, e.g. the words part's head alone; None: all it
    lists). No checksums.json: nothing to check."""
    path = folder / CHECKSUMS
    if not os.path.lexists(path):
        return
    if not path.is_file():
        raise ModelError(f"{path}: is not a file; delete it, or copy the whole model folder again")
    listed = recorded(path)
    for name in listed if names is None else names:
        file = folder / name
        if name not in listed:
            raise ModelError(f"{file}: not listed in checksums.json, so the folder changed since the model was saved; "
                             f"copy the whole model folder again, or train again ({ON_PURPOSE})")
        if file.is_file() and not matches(file, listed[name]):  # a missing file: the loaders' own message
            raise ModelError(f"{file}: {DAMAGED}")


def matches(file: Path, digest: str) -> bool:
    status = file.stat()
    key = (str(file.resolve()), status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    if _checked.get(key) == digest:
        return True
    if file_digest(file) != digest:
        return False
    _checked[key] = digest
    return True


def recorded(path: Path) -> dict[str, str]:
    """The {relative name: digest} entries of a checksums file, each checked: a digest of the right form for a
    file inside the folder."""
    try:
        value = read_json(path, MAX_BYTES, finite=True)
    except JsonProblem as error:
        raise ModelError(f"{path}: damaged ({error}); copy the whole model folder again, or delete "
                         f"{CHECKSUMS} to load the model unchecked") from error
    files = value.get("files") if isinstance(value, dict) else None
    if not isinstance(value, dict) or value.get("algorithm") != ALGORITHM or not isinstance(files, dict):
        raise ModelError(f"{path}: not a checksums file this IntentDesk reads (it expects \"algorithm\": "
                         f"\"{ALGORITHM}\" and \"files\"); copy the whole model folder again, or delete it")
    for name, digest in files.items():
        if not is_plain_name(name):
            raise ModelError(f"{path}: names {name!r}, not a file inside the model folder; a model folder may "
                             "only name its own files")
        if not isinstance(digest, str) or not HEX_DIGEST.fullmatch(digest):
            raise ModelError(f"{path}: the entry for {name!r} is not a SHA-256 digest (64 hex digits); copy the "
                             "whole model folder again")
    return files


def is_plain_name(name: str) -> bool:
    """A path inside the folder written the one way IntentDesk writes it (`words/head.safetensors`): not absolute,
    no `.` or `..`, no doubled or trailing slash, so that the name checked is the name looked up."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and path.as_posix() == name and ".." not in path.parts


def file_digest(path: Path) -> str:
    digest = hashlib.new(ALGORITHM)
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
