"""The dataset store: one folder that `datasets.load_dataset("audiofolder")` can read.

Layout::

    DATA/metadata.csv          file_name,label[,split][,any extra columns...]
    DATA/clips/<label>/<name>  the audio, one file per clip
    DATA/.trash/<batch>/       deleted clips and their rows, for undo (hidden: audiofolder skips it)

Why the write order is always "audio first, metadata last": `metadata.csv` is replaced atomically,
so after a crash it either lists a clip or not. An audio file the metadata does not list yet is
an orphan that `open` adopts back (label = its folder), and a listed clip that moved is found again
by its (unique) file name; so a crash can leave untidiness but never loses a recording.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intentdesk.core import audio
from intentdesk.core.atomic import atomic_copy, atomic_open, atomic_write_bytes
from intentdesk.core.errors import AudioError, DatasetError

METADATA = "metadata.csv"
CLIPS = "clips"
TRASH = ".trash"
STAGING = ".staging"
REQUIRED_COLUMNS = ("file_name", "label")
_LABEL_OK = re.compile(r"^[\w][\w .\-+']{0,63}$", re.UNICODE)


@dataclass
class Clip:
    """One row of `metadata.csv`. `extra` keeps every other column untouched."""

    file_name: str
    label: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.file_name).name

    def row(self) -> dict[str, str]:
        return {"file_name": self.file_name, "label": self.label, **self.extra}


def validate_label(label: str) -> str:
    """Labels become folder names, so they must be safe ones: letters, digits, space, `_-.+'`."""
    label = (label or "").strip()
    if not label or not _LABEL_OK.match(label) or label in {".", ".."}:
        raise DatasetError(f"invalid label {label!r}: use 1-64 letters, digits, spaces or _ - . + '")
    return label


class DatasetStore:
    """A labelled clip collection on disk. All mutations are atomic and undoable where it matters."""

    def __init__(self, root: Path, clips: list[Clip], columns: list[str]) -> None:
        self.root = Path(root)
        self._clips = clips
        self._columns = columns

    # ------------------------------------------------------------------ open / create
    @classmethod
    def create(cls, root: Path) -> DatasetStore:
        """Create an empty dataset (or open the folder when it already is one)."""
        root = Path(root)
        if (root / METADATA).exists():
            return cls.open(root)
        if root.exists() and not root.is_dir():
            raise DatasetError(f"{root}: exists and is not a folder")
        (root / CLIPS).mkdir(parents=True, exist_ok=True)
        store = cls(root, [], list(REQUIRED_COLUMNS))
        store._write_metadata()
        return store

    @classmethod
    def open(cls, root: Path, *, create: bool = False) -> DatasetStore:
        root = Path(root)
        meta = root / METADATA
        if not meta.is_file():
            if create:
                return cls.create(root)
            raise DatasetError(f"{root}: not an IntentDesk dataset (no {METADATA}); "
                               "create one with File > New dataset or `intentdesk import`")
        clips, columns = _read_metadata(meta)
        store = cls(root, clips, columns)
        store._reconcile()
        return store

    # ------------------------------------------------------------------ queries
    @property
    def clips(self) -> list[Clip]:
        return list(self._clips)

    def __len__(self) -> int:
        return len(self._clips)

    def __bool__(self) -> bool:
        """An empty dataset is still an open dataset (without this, `if store:` would say no)."""
        return True

    def path_of(self, clip: Clip) -> Path:
        return self.root / clip.file_name

    def label_counts(self) -> dict[str, int]:
        """Clips per label, labels sorted by name (the order models number them in)."""
        counts = Counter(clip.label for clip in self._clips)
        return dict(sorted(counts.items()))

    def labels(self) -> list[str]:
        return list(self.label_counts())

    def find(self, file_name: str) -> Clip:
        for clip in self._clips:
            if clip.file_name == file_name:
                return clip
        raise DatasetError(f"no clip {file_name!r} in {self.root}")

    # ------------------------------------------------------------------ add
    def add_array(self, samples: np.ndarray, rate: int, label: str, *, stem: str | None = None,
                  extra: dict[str, str] | None = None) -> Clip:
        """Store a recorded take as 16-bit WAV under `clips/<label>/`."""
        label = validate_label(label)
        mono = audio.check_array(samples, rate, name=stem or "recording", limits=audio.AudioLimits(max_seconds=None))
        stem = stem or time.strftime("take-%Y%m%d-%H%M%S")
        relative = self._unique_name(label, stem, ".wav")
        atomic_write_bytes(self.root / relative, audio.wav_bytes(mono, rate))
        return self._append([Clip(relative, label, dict(extra or {}))])[0]

    def add_file(self, source: Path, label: str, *, extra: dict[str, str] | None = None) -> Clip:
        """Copy an audio file in, unchanged, after checking that it decodes to usable audio."""
        label = validate_label(label)
        source = Path(source)
        audio.load_audio(source, limits=audio.AudioLimits(max_seconds=None))
        relative = self._unique_name(label, source.stem, source.suffix.lower())
        atomic_copy(source, self.root / relative)
        return self._append([Clip(relative, label, dict(extra or {}))])[0]

    def add_files(self, items: Iterable[tuple[Path, str, dict[str, str]]]) -> ImportReport:
        """Add many files in one metadata write; unreadable ones are skipped and reported by name.

        Files are first copied into a hidden staging folder, then renamed into `clips/`. If
        anything fails before the metadata is written, the moved files are taken back out, so
        the dataset is exactly as before.
        """
        report = ImportReport()
        staging = self.root / STAGING / uuid.uuid4().hex
        staged: list[tuple[Path, Clip]] = []
        reserved: set[str] = set()
        try:
            for source, label, extra in items:
                try:
                    label = validate_label(label)
                    audio.load_audio(Path(source), limits=audio.AudioLimits(max_seconds=None))
                except (AudioError, DatasetError) as error:
                    report.skipped.append(str(error))
                    continue
                relative = self._unique_name(label, Path(source).stem, Path(source).suffix.lower(), reserved)
                reserved.add(Path(relative).name)
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                staged.append((target, Clip(relative, label, dict(extra))))
            if not staged:
                shutil.rmtree(staging, ignore_errors=True)
                return report
            moved: list[Path] = []
            try:
                for target, clip in staged:
                    final = self.root / clip.file_name
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, final)
                    moved.append(final)
                report.added = self._append([clip for _, clip in staged])
            except BaseException:
                for final in moved:
                    with contextlib.suppress(OSError):
                        final.unlink()
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                (self.root / STAGING).rmdir()
        return report

    # ------------------------------------------------------------------ relabel / delete / undo
    def relabel(self, file_names: Iterable[str], new_label: str) -> list[Clip]:
        """Give clips a new label; their files move to `clips/<new_label>/`."""
        new_label = validate_label(new_label)
        targets = [self.find(name) for name in file_names]
        moves: list[tuple[Path, Path]] = []
        updated: dict[str, Clip] = {}
        try:
            for clip in targets:
                if clip.label == new_label:
                    continue
                relative = f"{CLIPS}/{new_label}/{clip.name}"
                source, destination = self.path_of(clip), self.root / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, destination)
                moves.append((destination, source))
                updated[clip.file_name] = Clip(relative, new_label, dict(clip.extra))
            new_clips = [updated.get(clip.file_name, clip) for clip in self._clips]
            self._write_metadata(new_clips)
        except BaseException:
            for destination, source in reversed(moves):
                with contextlib.suppress(OSError):
                    os.replace(destination, source)
            raise
        self._clips = new_clips
        self._remove_empty_label_dirs()
        return list(updated.values())

    def delete(self, file_names: Iterable[str]) -> str:
        """Move clips to the trash as one undoable batch; returns the batch id."""
        doomed = [self.find(name) for name in file_names]
        if not doomed:
            raise DatasetError("nothing to delete")
        batch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        batch_dir = self.root / TRASH / batch
        with atomic_open(batch_dir / "rows.json") as handle:
            json.dump([clip.row() for clip in doomed], handle)
        names = {clip.file_name for clip in doomed}
        remaining = [clip for clip in self._clips if clip.file_name not in names]
        self._write_metadata(remaining)  # metadata first: a crash now leaves orphans, adopted back on open
        self._clips = remaining
        for clip in doomed:
            target = batch_dir / clip.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path_of(clip), target)
        self._remove_empty_label_dirs()
        return batch

    def can_undo(self) -> bool:
        return bool(self._trash_batches())

    def undo_delete(self) -> list[Clip]:
        """Restore the most recently deleted batch of clips."""
        batches = self._trash_batches()
        if not batches:
            raise DatasetError("nothing to undo")
        batch_dir = batches[-1]
        rows = json.loads((batch_dir / "rows.json").read_text())
        restored: list[Clip] = []
        for row in rows:
            clip = _clip_from_row(row)
            source = batch_dir / clip.file_name
            if not source.exists():
                continue
            destination = self.path_of(clip)
            if destination.exists():  # the name was taken again meanwhile
                clip.file_name = self._unique_name(clip.label, Path(clip.name).stem, Path(clip.name).suffix)
                destination = self.path_of(clip)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)
            restored.append(clip)
        self._append(restored)
        shutil.rmtree(batch_dir, ignore_errors=True)
        return restored

    # ------------------------------------------------------------------ internals
    def _trash_batches(self) -> list[Path]:
        trash = self.root / TRASH
        if not trash.is_dir():
            return []
        return sorted(p for p in trash.iterdir() if (p / "rows.json").is_file())

    def _append(self, new: list[Clip]) -> list[Clip]:
        clips = self._clips + new
        self._write_metadata(clips)
        self._clips = clips
        return new

    def _all_names(self) -> set[str]:
        return {clip.name for clip in self._clips}

    def _unique_name(self, label: str, stem: str, suffix: str, reserved: set[str] | None = None) -> str:
        """A path `clips/<label>/<stem><suffix>` whose file name is unique in the whole dataset.

        Unique names let `_reconcile` find a clip again after an interrupted move.
        """
        stem = re.sub(r"[^\w.\-]+", "_", stem).strip("._") or "clip"
        taken = self._all_names() | (reserved or set())
        candidate, n = f"{stem}{suffix}", 1
        while candidate in taken or (self.root / CLIPS / label / candidate).exists():
            n += 1
            candidate = f"{stem}-{n}{suffix}"
        return f"{CLIPS}/{label}/{candidate}"

    def _write_metadata(self, clips: list[Clip] | None = None) -> None:
        clips = self._clips if clips is None else clips
        columns = list(self._columns)
        for clip in clips:
            for key in clip.extra:
                if key not in columns:
                    columns.append(key)
        with atomic_open(self.root / METADATA, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for clip in clips:
                writer.writerow(clip.row())
        self._columns = columns

    def _remove_empty_label_dirs(self) -> None:
        clips_dir = self.root / CLIPS
        if clips_dir.is_dir():
            for folder in clips_dir.iterdir():
                if folder.is_dir():
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only succeeds when empty

    def _reconcile(self) -> None:
        """Repair what an interrupted write can leave behind, without ever deleting audio."""
        on_disk: dict[str, Path] = {}
        clips_dir = self.root / CLIPS
        if clips_dir.is_dir():
            for path in clips_dir.rglob("*"):
                if path.is_file() and audio.is_audio_file(path) and not path.name.startswith("."):
                    on_disk.setdefault(path.name, path)
        changed = False
        listed: set[Path] = set()
        for clip in self._clips:
            path = self.path_of(clip)
            if path.exists():
                listed.add(path.resolve())
                continue
            moved = on_disk.get(clip.name)
            if moved is not None and moved.parent.parent == clips_dir:
                clip.file_name = moved.relative_to(self.root).as_posix()
                clip.label = moved.parent.name
                listed.add(moved.resolve())
                changed = True
        for path in on_disk.values():
            if path.resolve() not in listed and path.parent.parent == clips_dir:
                self._clips.append(Clip(path.relative_to(self.root).as_posix(), path.parent.name, {}))
                changed = True
        if changed:
            self._write_metadata()
        shutil.rmtree(self.root / STAGING, ignore_errors=True)

    def missing_files(self) -> list[str]:
        """Rows whose audio file is gone (deleted outside the app)."""
        return [clip.file_name for clip in self._clips if not self.path_of(clip).exists()]


@dataclass
class ImportReport:
    """What an import did: the clips added and one message per skipped file."""

    added: list[Clip] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _clip_from_row(row: dict[str, str]) -> Clip:
    extra = {k: (v if v is not None else "") for k, v in row.items()
             if k not in REQUIRED_COLUMNS and k is not None}
    return Clip(row["file_name"], row["label"], extra)


def _read_metadata(path: Path) -> tuple[list[Clip], list[str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; "
                                   "the header must start with file_name,label")
            clips = [_clip_from_row(row) for row in reader if row.get("file_name")]
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not a UTF-8 text file ({error.reason})") from error
    except csv.Error as error:
        raise DatasetError(f"{path}: not valid CSV ({error})") from error
    return clips, columns
