"""Which clips hold the same audio: content hashes, cached in `.intentdesk-hashes.json`.

An import skips a file whose bytes are already in the dataset under the same label, so a re-run
(or a re-run after a killed import) adds nothing twice. The index is only a cache keyed by
(size, mtime): when missing or damaged it is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from intentdesk.core.data import HASH_INDEX
from intentdesk.core.data.metadata_csv import METADATA_LIMITS, Clip
from intentdesk.core.files import atomic_open
from intentdesk.core.json_files import JsonProblem, read_json


class HashIndex:
    """The content-hash cache of the dataset at `root`. Written once, by `save`, when an import is in:
    an import that fails leaves the file as it was."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._on_disk: dict[str, list] = {}
        self._fresh: dict[str, list] | None = None

    def by_content(self, clips: list[Clip]) -> dict[tuple[str, str], str]:
        """(sha256 of the bytes, label) of every clip -> its file_name. The label is part of the key:
        the same audio deliberately filed under two labels is two clips, while a re-run of an import
        (same audio, same label) adds nothing."""
        self._on_disk = self._read()
        self._fresh = {}
        by_key: dict[tuple[str, str], str] = {}
        for clip in clips:
            path = self.root / clip.file_name
            try:
                info = path.stat()
                cached = self._on_disk.get(clip.file_name) or []
                digest = cached[2] if cached[:2] == [info.st_size, info.st_mtime_ns] else sha256_of(path)
            except OSError:
                continue  # a missing clip cannot be a duplicate of anything
            self._fresh[clip.file_name] = [info.st_size, info.st_mtime_ns, digest]
            by_key.setdefault((digest, clip.label), clip.file_name)
        return by_key

    def save(self, new: dict[str, str]) -> None:
        """Remember the hashes read by `by_content` and those of clips just added (file_name -> sha256),
        so the next import need not read them; written only when something changed."""
        index = dict(self._fresh) if self._fresh is not None else self._read()
        for file_name, digest in new.items():
            with contextlib.suppress(OSError):
                info = (self.root / file_name).stat()
                index[file_name] = [info.st_size, info.st_mtime_ns, digest]
        if index != self._on_disk:
            self._write(index)

    def _read(self) -> dict[str, list]:
        """The cached [size, mtime_ns, sha256] of each file_name; entries of any other shape are left out
        (a wrong digest would make an import skip a new clip as a duplicate)."""
        try:
            data = read_json(self.root / HASH_INDEX, METADATA_LIMITS.max_bytes)
        except JsonProblem:
            return {}  # a cache: rebuilt when missing or damaged
        files = data.get("files") if isinstance(data, dict) else None
        return {k: v for k, v in files.items() if _is_entry(v)} if isinstance(files, dict) else {}

    def _write(self, files: dict[str, list]) -> None:
        """Replace the cache atomically; a failure (a full disk) keeps the old one, which stays valid."""
        with contextlib.suppress(OSError), atomic_open(self.root / HASH_INDEX, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "files": files}, handle)


def _is_entry(value: object) -> bool:
    return (isinstance(value, list) and len(value) == 3 and all(type(n) is int for n in value[:2])
            and isinstance(value[2], str) and len(value[2]) == 64 and all(c in "0123456789abcdef" for c in value[2]))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
