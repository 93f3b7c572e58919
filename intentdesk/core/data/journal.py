"""An import's way in: sources copied and checked in `.staging/`, a journal, then a move into `clips/`.

The copy, not the source, is decoded and checked, so what is checked is what is kept. The
journal is written before any file moves into `clips/`, so the next `open` can finish an import
that was killed half way (see repair.py); a failure before the metadata write takes the moved
files back out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from intentdesk.core.audio import io as audio
from intentdesk.core.data import JOURNAL, STAGING
from intentdesk.core.data.duplicates import HashIndex
from intentdesk.core.data.metadata_csv import Clip
from intentdesk.core.data.placement import ClipFolder, taken_names
from intentdesk.core.data.safety import os_message, safe_suffix, validate_label
from intentdesk.core.errors import AudioError, DatasetError
from intentdesk.core.files import atomic_open, is_disk_full, move_no_clobber

LONG_CLIP_SECONDS = audio.DEFAULT_MAX_SECONDS  # the longest clip training (max 60 s) and classifying use


@dataclass
class ImportReport:
    """What an import did: the clips added, one message per skipped file, per duplicate and per warning."""

    added: list[Clip] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: ImportReport) -> ImportReport:
        self.added += other.added
        self.skipped += other.skipped
        self.duplicates += other.duplicates
        self.warnings += other.warnings
        return self


@dataclass
class Staged:
    """A source file copied into staging, checked and hashed, waiting to be moved into `clips/`."""

    path: Path
    source: Path
    label: str
    extra: dict[str, str]
    sha256: str
    seconds: float


@contextlib.contextmanager
def staging_folder(files: ClipFolder, transaction: Callable[[], AbstractContextManager],
                   locked: Callable[[], AbstractContextManager]) -> Iterator[Path]:
    """A private staging folder, owned (file-locked) by this import while it runs, removed after."""
    with transaction():
        ident = uuid.uuid4().hex
        owner = FileLock(str(files.own_dir(STAGING) / f"{ident}.lock"))
        owner.acquire(timeout=0)
        folder = files.root / STAGING / ident
        folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        owner.release()
        with contextlib.suppress(OSError):
            os.unlink(files.root / STAGING / f"{ident}.lock")
        with contextlib.suppress(OSError, DatasetError), locked():
            (files.root / STAGING).rmdir()  # only when no other import is staging


def stage(staging: Path, n: int, source: Path, label: str, extra: dict[str, str],
          report: ImportReport) -> Staged | None:
    """Copy one source into staging and check the copy; on a problem with the file, report it and
    return None. A full disk is no problem of the file: it stops the import (raised as it is)."""
    source = Path(source)
    target = staging / f"{n:06d}{safe_suffix(source.suffix)}"
    try:
        label = validate_label(label)
        if not source.is_file():
            raise DatasetError(f"{source}: not a file (or it was removed meanwhile)")
        digest = copy_hashing(source, target)
        audio.load_audio(target, name=str(source), limits=audio.AudioLimits(max_seconds=None))
    except (AudioError, DatasetError, OSError) as error:
        with contextlib.suppress(OSError):
            target.unlink()
        if is_disk_full(error):
            raise
        message = str(error) if not isinstance(error, OSError) else os_message(error, "read it", source)
        report.skipped.append(message if str(source) in message else f"{source}: {message}")
        return None
    extra = {str(k): ("" if v is None else str(v)) for k, v in (extra or {}).items()}
    return Staged(target, source, label, extra, digest, audio.duration_seconds(target))


def copy_hashing(source: Path, target: Path) -> str:
    """Copy `source` to the new file `target`, returning the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def commit_staged(files: ClipFolder, clips: list[Clip], staging: Path, staged: list[Staged], report: ImportReport,
                  commit: Callable[[list[Clip]], None]) -> list[Clip]:
    """Under the lock: skip duplicates of `clips` (same bytes, same label), name the others, move them
    into clips/ and `commit` their rows in one metadata write; the clips added."""
    hashes = HashIndex(files.root)
    known = hashes.by_content(clips)
    entries: list[tuple[Staged, Clip]] = []
    taken = taken_names(clips)
    for item in staged:
        key = (item.sha256, item.label)
        if key in known:
            report.duplicates.append(f"{item.source}: the same audio with the same label is already in the "
                                     f"dataset ({known[key]})")
            continue
        clip = Clip(files.unique_name(item.label, item.source.stem, item.path.suffix, taken), item.label, item.extra)
        known[key] = clip.file_name
        entries.append((item, clip))
    if entries:
        _move_in(staging, entries, files, taken, commit)
        report.warnings += _long_clip_warnings(entries)
    hashes.save({clip.file_name: item.sha256 for item, clip in entries})
    return [clip for _, clip in entries]


def _move_in(staging: Path, entries: list[tuple[Staged, Clip]], files: ClipFolder, taken: set[str],
            commit: Callable[[list[Clip]], None]) -> None:
    """Under the lock: journal the entries, move each staged file to its clip's name (another if
    that was taken meanwhile), then `commit` the new rows. Any failure takes the moved files back
    out, and the label folders made for them."""
    journal = staging / JOURNAL
    with atomic_open(journal, "w", encoding="utf-8") as handle:  # half a journal would be worse than none
        json.dump([{"staged": item.path.name, "file_name": clip.file_name, "label": clip.label,
                    "extra": clip.extra} for item, clip in entries], handle)
    placed: list[Path] = []
    with files.undoing_new_label_dirs(clip.label for _, clip in entries):
        try:
            for item, clip in entries:
                wanted = clip.file_name
                placed.append(files.place(
                    lambda c=clip, w=wanted: w if not os.path.lexists(files.root / w)
                    else files.unique_name(c.label, c.name, "", taken),
                    lambda path, s=item.path: move_no_clobber(s, path), clip))
            commit([clip for _, clip in entries])
        except BaseException:
            for path in placed:
                with contextlib.suppress(OSError):
                    path.unlink()
            with contextlib.suppress(OSError):
                journal.unlink()
            raise
    journal.unlink()


def _long_clip_warnings(entries: list[tuple[Staged, Clip]]) -> list[str]:
    """A warning for each clip longer than training and classifying use (it is imported anyway)."""
    return [f"{item.source}: {item.seconds:.0f} s long, over the {LONG_CLIP_SECONDS:g} s a clip can be "
            f"used for training or classification (imported as {clip.file_name}; cut it into shorter clips)"
            for item, clip in entries if item.seconds > LONG_CLIP_SECONDS]
