"""The dataset store: one folder that `datasets.load_dataset("audiofolder")` can read.

Layout::

    DATA/metadata.csv               file_name,label[,split][,any extra columns...]
    DATA/clips/<label>/<name>       the audio, one file per clip
    DATA/.trash/<batch>/            deleted clips and their rows, for undo (hidden: audiofolder skips it)
    DATA/.staging/<id>/             an import in progress (copies of its sources, then its journal)
    DATA/.intentdesk.lock           the inter-process lock every change takes
    DATA/.intentdesk-hashes.json    content hashes of the clips, a cache to find duplicate imports

Rules that keep every recording safe:

- *Audio first, metadata last.* `metadata.csv` is replaced atomically, so after a crash it either
  lists a clip or not. An audio file it does not list yet is an orphan that `open` adopts back
  (label = its folder), and a listed clip that moved is found again by its (unique) file name.
- *One writer at a time, working on what is on disk.* Every change takes the dataset's file lock,
  re-reads `metadata.csv` (another process may have changed it), applies itself and writes
  atomically; clip names are chosen under the same lock and files are placed without ever
  replacing an existing one. A second writer waits (bounded) or gets "the dataset is busy".
- *Nothing outside the dataset is touched.* Every row must name a file under `clips/`; paths and
  labels from metadata.csv, the trash or an import are checked before any file is moved.
- *An import is all or nothing.* Sources are copied into `.staging/` first; a journal written
  before the files move into `clips/` lets the next `open` finish an import that was killed half
  way, and content hashes make a re-run skip the clips that are already there.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from filelock import FileLock, Timeout

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError, DatasetError
from intentdesk.core.files import atomic_create_bytes, atomic_open, move_no_clobber

METADATA = "metadata.csv"
CLIPS = "clips"
TRASH = ".trash"
STAGING = ".staging"
LOCK_FILE = ".intentdesk.lock"
HASH_INDEX = ".intentdesk-hashes.json"
JOURNAL = "journal.json"
REQUIRED_COLUMNS = ("file_name", "label")
LOCK_TIMEOUT_S = 30.0  # how long a second writer waits before "the dataset is busy"
MAX_STEM_BYTES = 120  # file names stay far below the 255-byte limit, counter and suffix included
LONG_CLIP_SECONDS = audio.DEFAULT_MAX_SECONDS  # the longest clip training (max 60 s) and classifying use
_LABEL_OK = re.compile(r"^[\w][\w .\-+']{0,63}$", re.UNICODE)
_SAVE_AS_UTF8 = "save it as UTF-8 (in a spreadsheet: CSV UTF-8)"


@dataclass
class Clip:
    """One row of `metadata.csv`. `extra` keeps every other column untouched."""

    file_name: str
    label: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.file_name.rsplit("/", 1)[-1]

    def row(self) -> dict[str, str]:
        return {"file_name": self.file_name, "label": self.label, **self.extra}


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


def validate_label(label: str) -> str:
    """Labels become folder names, so new ones must be safe ones: letters, digits, space, `_-.+'`."""
    label = (label or "").strip()
    if not label or not _LABEL_OK.match(label) or label in {".", ".."}:
        raise DatasetError(f"invalid label {label!r}: use 1-64 letters, digits, spaces or _ - . + '")
    return label


def label_problem(label: str | None) -> str | None:
    """Why a label read from a file (metadata.csv, the trash) cannot be a folder name; None when it can.

    Looser than `validate_label` (a hand-made dataset may use `?` or `:`), but never a path.
    """
    if label is None or not label.strip():
        return "has no label"
    if "/" in label or "\\" in label or any(unicodedata.category(ch) == "Cc" for ch in label):
        return f"has label {label!r}, which contains a path separator or a control character"
    if label.startswith(".") or len(label.encode()) > 200:
        return f"has label {label!r}; a label cannot start with a dot or be that long"
    return None


def file_name_problem(file_name: str | None) -> str | None:
    """Why a `file_name` cannot be a clip of this dataset (judged on the text alone); None when it can."""
    if not file_name:
        return "has no file_name"
    shown = file_name if len(file_name) < 120 else file_name[:117] + "..."
    if "\n" in file_name or "\r" in file_name:
        return f"has file_name {shown!r}, which spans lines (an unclosed quote?)"
    if "\\" in file_name or "\0" in file_name:
        return f"has file_name {shown!r}, which contains a backslash or a NUL character"
    parts = PurePosixPath(file_name).parts
    if PurePosixPath(file_name).is_absolute() or any(p in (".", "..") for p in file_name.split("/")):
        return f"has file_name {shown!r}, which points outside the dataset folder"
    if len(parts) < 2 or parts[0] != CLIPS:
        return (f"has file_name {shown!r}, which is not under {CLIPS}/ (a folder made by another tool can be "
                "imported into a new dataset: intentdesk import FOLDER NEW_DATASET)")
    return None


class DatasetStore:
    """A labelled clip collection on disk. All mutations are atomic, locked, and undoable where it matters."""

    def __init__(self, root: Path, clips: list[Clip], columns: list[str]) -> None:
        self.root = Path(root)
        self._clips = clips
        self._columns = columns
        self._stamp: tuple[int, int, int] | None = None
        self._mutex = threading.RLock()
        self._depth = 0
        self._file_lock: FileLock | None = None

    # ------------------------------------------------------------------ open / create
    @classmethod
    def create(cls, root: Path) -> DatasetStore:
        """Create an empty dataset (or open the folder when it already is one)."""
        root = Path(root)
        _check_metadata_kind(root / METADATA)
        if root.exists() and not root.is_dir():
            raise DatasetError(f"{root}: exists and is not a folder; choose a folder for the dataset")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatasetError(_os_message(error, f"create the dataset folder {root}")) from error
        store = cls(root, [], list(REQUIRED_COLUMNS))
        with store._transaction(reload=False):
            if (root / METADATA).exists():  # made meanwhile (another process), or there before
                store._load()
                store._repair()
            else:
                store._own_dir(CLIPS)
                store._commit([])
        return store

    @classmethod
    def open(cls, root: Path, *, create: bool = False) -> DatasetStore:
        root = Path(root)
        meta = root / METADATA
        _check_metadata_kind(meta)
        if not meta.is_file():
            if create:
                return cls.create(root)
            raise DatasetError(f"{root}: not an IntentDesk dataset (no {METADATA}); "
                               "create one with File > New dataset or `intentdesk import`")
        store = cls(root, [], [])
        try:
            with store._transaction():
                store._repair()
        except _ReadOnly:
            store._load()  # a read-only dataset can still be trained on and evaluated; nothing to repair
        return store

    @classmethod
    @contextlib.contextmanager
    def opened_for_import(cls, root: Path) -> Iterator[DatasetStore]:
        """Open the dataset at `root`, creating it if needed; if the block fails on a dataset this
        call created, remove exactly what it created (never a file or folder that was there before)."""
        root = Path(root)
        if (root / METADATA).exists() or (root / METADATA).is_symlink():
            yield cls.open(root)
            return
        new_dirs = _missing_dirs(root)
        before = set(os.listdir(root)) if root.is_dir() else set()
        clips_existed = (root / CLIPS).exists()
        try:
            yield cls.create(root)
        except BaseException:
            cls(root, [], [])._undo_creation(new_dirs, before, clips_existed)
            raise

    # ------------------------------------------------------------------ queries
    @property
    def clips(self) -> list[Clip]:
        self._refresh()
        return list(self._clips)

    def __len__(self) -> int:
        self._refresh()
        return len(self._clips)

    def __bool__(self) -> bool:
        """An empty dataset is still an open dataset (without this, `if store:` would say no)."""
        return True

    def path_of(self, clip: Clip) -> Path:
        return self.root / clip.file_name

    def label_counts(self) -> dict[str, int]:
        """Clips per label, labels sorted by name (the order models number them in)."""
        counts = Counter(clip.label for clip in self.clips)
        return dict(sorted(counts.items()))

    def labels(self) -> list[str]:
        return list(self.label_counts())

    def find(self, file_name: str) -> Clip:
        self._refresh()
        return self._find(file_name)

    def missing_files(self) -> list[str]:
        """Rows whose audio file is gone (deleted outside the app)."""
        return [clip.file_name for clip in self.clips if not self.path_of(clip).exists()]

    def can_undo(self) -> bool:
        return bool(self._trash_batches())

    # ------------------------------------------------------------------ add
    def add_array(self, samples: np.ndarray, rate: int, label: str, *, stem: str | None = None,
                  extra: dict[str, str] | None = None) -> Clip:
        """Store a recorded take as 16-bit WAV under `clips/<label>/`."""
        label = validate_label(label)
        mono = audio.check_array(samples, rate, name=stem or "recording", limits=audio.AudioLimits(max_seconds=None))
        data = audio.wav_bytes(mono, rate)
        stem = stem or time.strftime("take-%Y%m%d-%H%M%S")
        with self._transaction():
            clip = Clip("", label, dict(extra or {}))
            taken = self._taken_names()
            target = self._place(lambda: self._unique_name(label, stem, ".wav", taken),
                                 lambda path: atomic_create_bytes(path, data), clip)
            try:
                self._commit(self._clips + [clip])
            except BaseException:
                with contextlib.suppress(OSError):
                    target.unlink()
                raise
        return clip

    def add_file(self, source: Path, label: str, *, extra: dict[str, str] | None = None) -> Clip:
        """Copy an audio file in, unchanged, after checking that it decodes to usable audio."""
        report = self.add_files([(Path(source), label, dict(extra or {}))])
        if report.added:
            return report.added[0]
        raise DatasetError((report.skipped or report.duplicates)[0])

    def add_files(self, items: Iterable[tuple[Path, str, dict[str, str]]]) -> ImportReport:
        """Add many files in one metadata write; unusable ones are skipped and reported by name.

        Sources are copied (and hashed) into a private staging folder without holding the lock;
        the copy, not the source, is decoded and checked, so what is checked is what is kept.
        Then, under the lock: duplicates of clips already in the dataset (same bytes) are
        skipped, names are chosen, a journal is written, files move into `clips/`, and the
        metadata is written once. A failure before the metadata write takes the moved files
        back out; a kill is finished by the next `open` from the journal.
        """
        report = ImportReport()
        with self._staging() as staging:
            staged = [s for n, item in enumerate(items) if (s := _stage(staging, n, *item, report)) is not None]
            if staged:
                with self._transaction():
                    report.added = self._commit_staged(staging, staged, report)
        return report

    # ------------------------------------------------------------------ relabel / delete / undo
    def relabel(self, file_names: Iterable[str], new_label: str) -> list[Clip]:
        """Give clips a new label; their files move to `clips/<new_label>/`."""
        new_label = validate_label(new_label)
        names = list(dict.fromkeys(file_names))
        with self._transaction():
            targets = [self._find(name) for name in names]
            for clip in targets:
                if clip.label != new_label and not self._clip_path(clip).is_file():
                    raise DatasetError(f"{clip.file_name}: the audio file is missing, so it cannot be relabelled "
                                       "(delete the clip instead)")
            moves: list[tuple[Path, Path]] = []
            updated: dict[str, Clip] = {}
            taken = self._taken_names()
            try:
                for clip in targets:
                    if clip.label == new_label:
                        continue
                    moved = Clip("", new_label, dict(clip.extra))
                    source = self._clip_path(clip)
                    taken.discard(clip.name.casefold())  # a moved clip may keep its own name
                    destination = self._place(lambda c=clip: self._unique_name(new_label, c.name, "", taken),
                                              lambda path, s=source: move_no_clobber(s, path), moved)
                    moves.append((destination, source))
                    updated[clip.file_name] = moved
                self._commit([updated.get(clip.file_name, clip) for clip in self._clips])
            except BaseException:
                for destination, source in reversed(moves):
                    with contextlib.suppress(OSError):
                        move_no_clobber(destination, source)
                raise
            self._remove_empty_label_dirs()
        return list(updated.values())

    def delete(self, file_names: Iterable[str]) -> str:
        """Move clips to the trash as one undoable batch; returns the batch id."""
        names = list(dict.fromkeys(file_names))
        if not names:
            raise DatasetError("nothing to delete")
        with self._transaction():
            doomed = [self._find(name) for name in names]
            sources = [self._clip_path(clip) for clip in doomed]  # checks every path before anything moves
            batch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
            batch_dir = self._own_dir(TRASH) / batch
            batch_dir.mkdir()
            with atomic_open(batch_dir / "rows.json") as handle:
                json.dump([clip.row() for clip in doomed], handle)
            gone = set(names)
            try:
                self._commit([clip for clip in self._clips if clip.file_name not in gone])
            except BaseException:
                shutil.rmtree(batch_dir, ignore_errors=True)  # holds only rows.json: nothing was moved yet
                raise
            # metadata first: a crash now leaves orphans, adopted back on open
            for clip, source in zip(doomed, sources):
                if not os.path.lexists(source):
                    continue  # already gone: the row is removed, there is no file to keep
                target = batch_dir / clip.file_name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)  # `target` is in a folder made just now: nothing to overwrite
            self._remove_empty_label_dirs()
        return batch

    def undo_delete(self) -> list[Clip]:
        """Restore the most recently deleted batch of clips.

        Every row of the batch is checked first (rows.json may have been edited): a path outside
        the trash or the dataset, or an unsafe label, refuses the whole undo and moves nothing.
        Files of the batch that its rows do not list are left in the trash, never deleted.
        """
        with self._transaction():
            batches = self._trash_batches()
            if not batches:
                raise DatasetError("nothing to undo")
            batch_dir = batches[-1]
            rows = self._trash_rows(batch_dir)
            restored: list[Clip] = []
            moves: list[tuple[Path, Path]] = []
            taken = self._taken_names()
            try:
                for clip in rows:
                    source = batch_dir / clip.file_name
                    if not source.is_file() or source.is_symlink():
                        continue

                    def name(c: Clip = clip, w: str = clip.file_name) -> str:
                        if c.name.casefold() not in taken and not os.path.lexists(self.root / w):
                            taken.add(c.name.casefold())
                            return w
                        return self._unique_name(c.label, c.name, "", taken)

                    destination = self._place(name, lambda path, s=source: move_no_clobber(s, path), clip)
                    moves.append((destination, source))
                    restored.append(clip)
                self._commit(self._clips + restored)
            except BaseException:
                for destination, source in reversed(moves):
                    with contextlib.suppress(OSError):
                        move_no_clobber(destination, source)
                raise
            (batch_dir / "rows.json").unlink()
            _remove_empty_dirs(batch_dir)
        return restored

    # ------------------------------------------------------------------ locking and loading
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the dataset's inter-process lock (re-entrant within this store and thread)."""
        busy = (f"{self.root}: the dataset is busy: another IntentDesk window or command is changing it; "
                "try again when it has finished")
        if not self._mutex.acquire(timeout=LOCK_TIMEOUT_S):
            raise DatasetError(busy)
        try:
            if self._depth == 0:
                if self._file_lock is None:
                    self._file_lock = FileLock(str(self.root / LOCK_FILE))
                try:
                    self._file_lock.acquire(timeout=LOCK_TIMEOUT_S)
                except Timeout as error:
                    raise DatasetError(busy) from error
                except OSError as error:
                    raise _ReadOnly(_os_message(error, f"change the dataset {self.root}")) from error
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._file_lock.release()
        finally:
            self._mutex.release()

    @contextlib.contextmanager
    def _transaction(self, reload: bool = True) -> Iterator[None]:
        """Lock, re-read what is on disk, and turn OS errors into messages that say what to do."""
        with self._locked():
            try:
                if reload:
                    self._load()
                yield
            except OSError as error:
                raise DatasetError(_os_message(error, f"change the dataset {self.root}")) from error

    def _load(self) -> None:
        """Read and check metadata.csv: every row must be a clip under clips/ with a usable label."""
        meta = self.root / METADATA
        _check_metadata_kind(meta)
        try:
            info = meta.stat()
        except FileNotFoundError as error:
            raise DatasetError(f"{self.root}: {METADATA} has disappeared; was the dataset moved or deleted?") from error
        columns, rows = read_metadata_table(meta)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DatasetError(f"{meta}: missing column(s) {', '.join(missing)}; "
                               "the header must start with file_name,label")
        clips_real = self._clips_real()
        folders: dict[str, str] = {}
        clips: list[Clip] = []
        seen: dict[str, int] = {}
        root = os.fspath(self.root)
        for line, row in rows:
            clip = _clip_from_row(row)
            problem = file_name_problem(clip.file_name) or label_problem(clip.label)
            if problem is None:
                problem = _path_problem(os.path.join(root, clip.file_name), clip.file_name, clips_real, folders)
            if problem is None and clip.file_name in seen:
                problem = f"lists {clip.file_name!r} again (first on line {seen[clip.file_name]})"
            if problem is not None:
                raise DatasetError(f"{meta}, line {line}: the row {problem}; fix or remove that row")
            seen[clip.file_name] = line
            clips.append(clip)
        self._clips, self._columns, self._stamp = clips, columns, _stamp_of(info)

    def _refresh(self) -> None:
        """Pick up changes another process made, so that queries show what is on disk.

        Skipped while another thread of this process is changing the dataset (it holds the mutex).
        """
        if not self._mutex.acquire(blocking=False):
            return
        try:
            if _stamp_of((self.root / METADATA).stat()) != self._stamp:
                self._load()
        except (OSError, DatasetError):
            pass  # keep what was read last; the next change reports the problem
        finally:
            self._mutex.release()

    def _commit(self, clips: list[Clip]) -> None:
        """Write metadata.csv atomically (columns in their order, extra ones appended)."""
        columns = list(self._columns) or list(REQUIRED_COLUMNS)
        for clip in clips:
            columns += [key for key in clip.extra if key not in columns]
        with atomic_open(self.root / METADATA, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            for clip in clips:
                writer.writerow(clip.row())
        self._clips, self._columns = clips, columns
        self._stamp = _stamp_of((self.root / METADATA).stat())

    # ------------------------------------------------------------------ paths
    def _find(self, file_name: str) -> Clip:
        for clip in self._clips:
            if clip.file_name == file_name:
                return clip
        raise DatasetError(f"no clip {file_name!r} in {self.root}")

    def _clip_path(self, clip: Clip) -> Path:
        """The clip's file, after checking that it is inside `clips/` (links included)."""
        path = self.root / clip.file_name
        problem = file_name_problem(clip.file_name) or _path_problem(path, clip.file_name, self._clips_real())
        if problem is not None:
            raise DatasetError(f"{self.root}: the clip {problem}; nothing was changed")
        return path

    def _clips_real(self) -> str:
        """Where clips/ must be, links resolved in the dataset folder's path but not in clips/ itself."""
        return os.path.join(_real(self.root), CLIPS)

    def _own_dir(self, name: str) -> Path:
        """A folder of the dataset the store writes into, made if needed; never a link to elsewhere."""
        path = self.root / name
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise DatasetError(f"{path}: is a link or a file, but IntentDesk keeps its own folder there; "
                               "move it away and try again")
        path.mkdir(exist_ok=True)
        return path

    def _new_path(self, relative: str) -> Path:
        """Make the folders of a new clip path, refusing links on the way (they could lead outside)."""
        problem = file_name_problem(relative)
        if problem is not None:
            raise DatasetError(f"{self.root}: a new clip {problem}")
        folder = self._own_dir(CLIPS)
        for part in PurePosixPath(relative).parts[1:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise DatasetError(f"{folder}: is a link or a file, not a label folder; move it away and try again")
            folder.mkdir(exist_ok=True)
        return self.root / relative

    def _place(self, choose, put, clip: Clip) -> Path:
        """Choose a free name (under the lock) and `put` the file there without replacing anything.

        A name can still be taken by someone who does not take the lock; then the next one is tried.
        """
        for _ in range(100):
            relative = choose()
            target = self._new_path(relative)
            try:
                put(target)
            except FileExistsError:
                continue
            clip.file_name = relative
            return target
        raise DatasetError(f"{self.root}: could not find a free file name for a clip; is another program "
                           "writing into clips/?")

    def _taken_names(self) -> set[str]:
        """The clips' file names, case-folded (a case-insensitive disk treats A.wav and a.wav as one)."""
        return {clip.name.casefold() for clip in self._clips}

    def _unique_name(self, label: str, stem: str, suffix: str, taken: set[str]) -> str:
        """A path `clips/<label>/<stem><suffix>` whose file name is unique in the whole dataset.

        Unique names let `_reconcile` find a clip again after an interrupted move. `taken` holds
        the names in use (case-folded); the chosen one is added to it. Names are capped in bytes
        (UTF-8), so stem, counter and suffix stay well below the 255-byte limit of file systems.
        """
        if not suffix:
            stem, suffix = os.path.splitext(stem)
        stem, suffix = _safe_stem(stem), _safe_suffix(suffix)
        folder = self.root / CLIPS / label
        candidate, n = f"{stem}{suffix}", 1
        while candidate.casefold() in taken or os.path.lexists(folder / candidate):
            n += 1
            candidate = f"{stem}-{n}{suffix}"
        taken.add(candidate.casefold())
        return f"{CLIPS}/{label}/{candidate}"

    def _remove_empty_label_dirs(self) -> None:
        clips_dir = self.root / CLIPS
        if clips_dir.is_dir() and not clips_dir.is_symlink():
            for folder in clips_dir.iterdir():
                if folder.is_dir() and not folder.is_symlink():
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only succeeds when empty

    # ------------------------------------------------------------------ trash
    def _trash_batches(self) -> list[Path]:
        trash = self.root / TRASH
        if not trash.is_dir() or trash.is_symlink():
            return []
        return sorted(p for p in trash.iterdir() if not p.is_symlink() and (p / "rows.json").is_file())

    def _trash_rows(self, batch_dir: Path) -> list[Clip]:
        """The rows of a trash batch, each checked like a metadata row (the file may have been edited)."""
        rows_file = batch_dir / "rows.json"
        try:
            rows = json.loads(rows_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DatasetError(f"{rows_file}: cannot be read ({error}); the deleted files stay in {batch_dir}") \
                from error
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DatasetError(f"{rows_file}: is not a list of rows; the deleted files stay in {batch_dir}")
        batch_real = os.path.join(_real(self.root), TRASH, batch_dir.name)
        clips = []
        for number, row in enumerate(rows, start=1):
            clip = _clip_from_row({str(k): (v if isinstance(v, str) else None) for k, v in row.items()})
            problem = file_name_problem(clip.file_name) or label_problem(clip.label)
            if problem is None and not _inside(batch_dir / clip.file_name, batch_real):
                problem = f"has file_name {clip.file_name!r}, which leads outside the trash"
            if problem is not None:
                raise DatasetError(f"{rows_file}, row {number}: the row {problem}; nothing was restored "
                                   f"(the deleted files stay in {batch_dir})")
            clips.append(clip)
        return clips

    # ------------------------------------------------------------------ import internals
    @contextlib.contextmanager
    def _staging(self) -> Iterator[Path]:
        """A private staging folder, owned (locked) by this import while it runs, removed after."""
        with self._transaction(reload=False):
            ident = uuid.uuid4().hex
            owner = FileLock(str(self._own_dir(STAGING) / f"{ident}.lock"))
            owner.acquire(timeout=0)
            folder = self.root / STAGING / ident
            folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            owner.release()
            with contextlib.suppress(OSError):
                os.unlink(self.root / STAGING / f"{ident}.lock")
            with contextlib.suppress(OSError, DatasetError), self._locked():
                (self.root / STAGING).rmdir()  # only when no other import is staging

    def _commit_staged(self, staging: Path, staged: list[_Staged], report: ImportReport) -> list[Clip]:
        """Under the lock: skip duplicates, name, journal, move into clips/, write the metadata once."""
        known = self._content_hashes()
        entries: list[tuple[_Staged, Clip]] = []
        taken = self._taken_names()
        for item in staged:
            key = (item.sha256, item.label)
            if key in known:
                report.duplicates.append(f"{item.source}: the same audio with the same label is already in the "
                                         f"dataset ({known[key]})")
                continue
            clip = Clip(self._unique_name(item.label, item.source.stem, item.path.suffix, taken),
                        item.label, item.extra)
            known[key] = clip.file_name
            entries.append((item, clip))
        if not entries:
            return []
        journal = staging / JOURNAL
        _write_journal(journal, entries)
        placed: list[Path] = []
        try:
            for item, clip in entries:
                wanted = clip.file_name
                placed.append(self._place(
                    lambda c=clip, w=wanted: w if not os.path.lexists(self.root / w)
                    else self._unique_name(c.label, c.name, "", taken),
                    lambda path, s=item.path: move_no_clobber(s, path), clip))
            self._commit(self._clips + [clip for _, clip in entries])
        except BaseException:
            for path in placed:
                with contextlib.suppress(OSError):
                    path.unlink()
            with contextlib.suppress(OSError):
                journal.unlink()
            raise
        journal.unlink()
        self._save_hashes({clip.file_name: item.sha256 for item, clip in entries})
        for item, clip in entries:
            if item.seconds > LONG_CLIP_SECONDS:
                report.warnings.append(
                    f"{item.source}: {item.seconds:.0f} s long, over the {LONG_CLIP_SECONDS:g} s a clip can be "
                    f"used for training or classification (imported as {clip.file_name}; cut it into shorter clips)")
        return [clip for _, clip in entries]

    def _content_hashes(self) -> dict[tuple[str, str], str]:
        """(sha256 of the bytes, label) of every clip -> its file_name; hashes are cached by (size, mtime)
        in a hidden index. The label is part of the key: the same audio deliberately filed under two
        labels is two clips, while a re-run of an import (same audio, same label) adds nothing."""
        cache = self._read_hash_index()
        fresh: dict[str, list] = {}
        by_key: dict[tuple[str, str], str] = {}
        for clip in self._clips:
            path = self.root / clip.file_name
            try:
                info = path.stat()
                cached = cache.get(clip.file_name) or []
                digest = cached[2] if cached[:2] == [info.st_size, info.st_mtime_ns] else _sha256_of(path)
            except OSError:
                continue  # a missing clip cannot be a duplicate of anything
            fresh[clip.file_name] = [info.st_size, info.st_mtime_ns, digest]
            by_key.setdefault((digest, clip.label), clip.file_name)
        if fresh != cache:
            self._write_hash_index(fresh)
        return by_key

    def _save_hashes(self, new: dict[str, str]) -> None:
        index = self._read_hash_index()
        for file_name, digest in new.items():
            with contextlib.suppress(OSError):
                info = (self.root / file_name).stat()
                index[file_name] = [info.st_size, info.st_mtime_ns, digest]
        self._write_hash_index(index)

    def _read_hash_index(self) -> dict[str, list]:
        try:
            data = json.loads((self.root / HASH_INDEX).read_text(encoding="utf-8"))
            files = data["files"]
            return {k: v for k, v in files.items() if isinstance(v, list) and len(v) == 3}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # a cache: rebuilt when missing or damaged

    def _write_hash_index(self, files: dict[str, list]) -> None:
        with contextlib.suppress(OSError), atomic_open(self.root / HASH_INDEX, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "files": files}, handle)

    # ------------------------------------------------------------------ repair on open
    def _repair(self) -> None:
        """Under the lock: finish or drop imports that were killed, adopt orphans, re-find moved clips."""
        changed = self._recover_staging()
        changed = self._reconcile() or changed
        if changed:
            self._commit(self._clips)

    def _recover_staging(self) -> bool:
        """Imports killed before their journal are dropped (their files were only copies); those killed
        after it are finished, so a re-run finds them already there instead of adding them twice."""
        staging = self.root / STAGING
        if not staging.is_dir() or staging.is_symlink():
            return False
        changed = False
        for folder in sorted(p for p in staging.iterdir() if p.is_dir() and not p.is_symlink()):
            owner = FileLock(str(staging / f"{folder.name}.lock"))
            try:
                owner.acquire(timeout=0)
            except (Timeout, OSError):
                continue  # an import still running (in this or another process)
            try:
                changed = self._finish_journal(folder / JOURNAL) or changed
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                owner.release()
            with contextlib.suppress(OSError):
                os.unlink(staging / f"{folder.name}.lock")
        with contextlib.suppress(OSError):
            staging.rmdir()
        return changed

    def _finish_journal(self, journal: Path) -> bool:
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False  # no journal: killed while copying, nothing reached clips/
        listed = {clip.file_name for clip in self._clips}
        taken = self._taken_names()
        added = []
        for entry in entries if isinstance(entries, list) else []:
            try:
                clip = Clip(str(entry["file_name"]), str(entry["label"]), {str(k): str(v) for k, v in
                                                                        dict(entry["extra"]).items()})
                staged = journal.parent / str(entry["staged"])
            except (KeyError, TypeError, ValueError):
                continue
            if clip.file_name in listed or file_name_problem(clip.file_name) or label_problem(clip.label):
                continue
            final = self.root / clip.file_name
            if final.is_file() and not final.is_symlink() and _inside(final, self._clips_real()):
                added.append(clip)
            elif staged.is_file() and staged.parent == journal.parent:
                self._place(lambda c=clip: self._unique_name(c.label, c.name, "", taken),
                            lambda path, s=staged: move_no_clobber(s, path), clip)
                added.append(clip)
            listed.add(clip.file_name)
        self._clips = self._clips + added
        return bool(added)

    def _reconcile(self) -> bool:
        """Repair what an interrupted write can leave behind, without ever deleting audio.

        Only regular files directly in `clips/<label>/` are adopted (links and hidden files are not).
        """
        clips_dir = self.root / CLIPS
        if not clips_dir.is_dir() or clips_dir.is_symlink():
            return False
        listed = {os.path.normcase(clip.file_name) for clip in self._clips}
        orphans: dict[str, list[Path]] = {}
        for folder in sorted(p for p in clips_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            if label_problem(folder.name):
                continue
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if (entry.is_file(follow_symlinks=False) and audio.is_audio_file(Path(entry.name))
                        and not entry.name.startswith(".")
                        and os.path.normcase(f"{CLIPS}/{folder.name}/{entry.name}") not in listed):
                    orphans.setdefault(entry.name, []).append(folder / entry.name)
        changed = False
        for clip in self._clips if orphans else []:
            if orphans.get(clip.name) and not self.path_of(clip).exists():
                moved = orphans[clip.name].pop(0)
                clip.file_name = moved.relative_to(self.root).as_posix()
                clip.label = moved.parent.name
                changed = True
        for paths in orphans.values():
            for path in paths:
                self._clips.append(Clip(path.relative_to(self.root).as_posix(), path.parent.name, {}))
                changed = True
        return changed

    def _undo_creation(self, new_dirs: list[Path], before: set[str], clips_existed: bool) -> None:
        """After a failed import into a dataset this command created: remove what it created, if the
        dataset is still empty. Only unlink/rmdir of known names: never a tree, never older files."""
        with contextlib.suppress(DatasetError, OSError):
            with self._locked():
                if (self.root / METADATA).is_file():
                    self._load()
                    if self._clips:
                        return  # another writer added clips meanwhile: the dataset is in use, keep it
                for name in (METADATA, HASH_INDEX):
                    if name not in before:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(self.root / name)
                if not clips_existed:
                    _remove_empty_dirs(self.root / CLIPS)
                for name in (STAGING, TRASH):
                    if name not in before:
                        _remove_empty_dirs(self.root / name)
            if LOCK_FILE not in before:
                os.unlink(self.root / LOCK_FILE)
        for folder in new_dirs:  # the dataset folder, then any parents made for it
            with contextlib.suppress(OSError):
                folder.rmdir()


class _ReadOnly(DatasetError):
    """The dataset folder cannot be written (so it cannot be locked either)."""


@dataclass
class _Staged:
    """A source file copied into staging, checked and hashed, waiting to be moved into `clips/`."""

    path: Path
    source: Path
    label: str
    extra: dict[str, str]
    sha256: str
    seconds: float


def _stage(staging: Path, n: int, source: Path, label: str, extra: dict[str, str],
           report: ImportReport) -> _Staged | None:
    """Copy one source into staging and check the copy; on any problem, report it and return None."""
    source = Path(source)
    target = staging / f"{n:06d}{_safe_suffix(source.suffix)}"
    try:
        label = validate_label(label)
        if not source.is_file():
            raise DatasetError(f"{source}: not a file (or it was removed meanwhile)")
        digest = _copy_hashing(source, target)
        audio.load_audio(target, name=str(source), limits=audio.AudioLimits(max_seconds=None))
    except (AudioError, DatasetError, OSError) as error:
        with contextlib.suppress(OSError):
            target.unlink()
        message = str(error) if not isinstance(error, OSError) else _os_message(error, "read it", source)
        report.skipped.append(message if str(source) in message else f"{source}: {message}")
        return None
    extra = {str(k): ("" if v is None else str(v)) for k, v in (extra or {}).items()}
    return _Staged(target, source, label, extra, digest, audio.duration_seconds(target))


def _write_journal(journal: Path, entries: list[tuple[_Staged, Clip]]) -> None:
    with atomic_open(journal, "w", encoding="utf-8") as handle:
        json.dump([{"staged": item.path.name, "file_name": clip.file_name, "label": clip.label,
                    "extra": clip.extra} for item, clip in entries], handle)


def _copy_hashing(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_stem(stem: str) -> str:
    stem = re.sub(r"[^\w.\-]+", "_", stem).strip("._") or "clip"
    encoded = stem.encode()
    if len(encoded) > MAX_STEM_BYTES:
        stem = encoded[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip("._-") or "clip"
    return stem


def _safe_suffix(suffix: str) -> str:
    suffix = re.sub(r"[^\w]+", "", suffix.lower())[:12]
    return f".{suffix}" if suffix else ""


def _clip_from_row(row: dict[str, str | None]) -> Clip:
    extra = {k: (v if v is not None else "") for k, v in row.items() if k not in REQUIRED_COLUMNS and k is not None}
    return Clip(row.get("file_name") or "", row.get("label") or "", extra)


def _check_metadata_kind(meta: Path) -> None:
    """metadata.csv is rewritten on every change, so it must be a regular file in the dataset folder."""
    if meta.is_symlink():
        raise DatasetError(f"{meta}: is a symbolic link; IntentDesk rewrites this file on every change, so it must "
                           "be a regular file: replace the link with a copy of the file it points to")
    if meta.is_dir():
        raise DatasetError(f"{meta}: is a folder, not a file; move it away (a dataset's {METADATA} is a CSV file)")


def read_metadata_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header and rows (with their line numbers) of a metadata.csv, read strictly.

    UTF-8 with or without a BOM (spreadsheets write one). A file that would lose content when
    rewritten is refused with the line it happens on: a row with more values than the header, two
    columns of the same name, or a nameless column holding values. Blank lines are skipped.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise DatasetError(f"{path}: line {line} is not UTF-8 text; {_SAVE_AS_UTF8}") from error
    except IsADirectoryError as error:
        raise DatasetError(f"{path}: is a folder, not a CSV file") from error
    except OSError as error:
        raise DatasetError(_os_message(error, "read it", path)) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise DatasetError(f"{path}: is empty; the first line must be the header file_name,label")
        records: list[tuple[int, list[str]]] = []
        line = reader.line_num
        for record in reader:
            records.append((line + 1, record))
            line = reader.line_num
    except csv.Error as error:
        raise DatasetError(f"{path}, line {reader.line_num}: not valid CSV ({error}); {_SAVE_AS_UTF8}") from error
    records = [(n, r) for n, r in records if any(v.strip() for v in r)]
    keep = _checked_header(path, header, records)
    rows = []
    for number, record in records:
        overflow = record[len(header):]
        if any(v.strip() for v in overflow):
            raise DatasetError(f"{path}, line {number}: {len(record)} values but the header has {len(header)} "
                               "columns; quote values that contain commas, or add the missing column names")
        values = record[: len(header)]
        rows.append((number, {header[i]: (values[i] if i < len(values) else None) for i in keep}))
    return [header[i] for i in keep], rows


def _checked_header(path: Path, header: list[str], records: list[tuple[int, list[str]]]) -> list[int]:
    """Indices of the columns to keep: named ones (no name twice), and nameless ones only if empty."""
    keep: list[int] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name.strip():
            used = next((n for n, r in records if index < len(r) and r[index].strip()), None)
            if used is not None:
                raise DatasetError(f"{path}: column {index + 1} has no name but holds values (line {used}); "
                                   "give it a name in the header")
            continue
        if name in seen:
            raise DatasetError(f"{path}: the header names column {name!r} twice (columns {seen[name] + 1} and "
                               f"{index + 1}); rename one so that neither is lost when the file is rewritten")
        seen[name] = index
        keep.append(index)
    return keep


def _path_problem(path: Path | str, file_name: str, clips_real: str,
                  folders: dict[str, str] | None = None) -> str | None:
    """Why an existing-or-not clip path is unsafe once links are followed; None when it is fine.

    `folders` caches resolved folders across the rows of one metadata.csv (a few label folders
    for thousands of clips): then a row costs one lstat, not a full path resolution.
    """
    folders = {} if folders is None else folders
    parent, name = os.path.split(os.fspath(path))
    if parent not in folders:
        folders[parent] = _real(parent)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0  # missing: only its folders matter
    real = _real(path) if stat.S_ISLNK(mode) else os.path.join(folders[parent], os.path.normcase(name))
    if not (real == clips_real or real.startswith(clips_real.rstrip(os.sep) + os.sep)):
        return f"has file_name {file_name!r}, which is a link to {os.path.realpath(path)}, outside the dataset"
    if stat.S_ISDIR(mode) or (stat.S_ISLNK(mode) and os.path.isdir(path)):
        return f"has file_name {file_name!r}, which is a folder, not an audio file"
    return None


def _real(path: Path | str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _inside(path: Path, base_real: str) -> bool:
    """Whether `path`, links resolved, is `base_real` (already resolved) or below it."""
    real = _real(path)
    return real == base_real or real.startswith(base_real.rstrip(os.sep) + os.sep)


def _stamp_of(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_mtime_ns, info.st_size, info.st_ino


def _missing_dirs(root: Path) -> list[Path]:
    """`root` and its parents that do not exist yet (deepest first): what creating `root` would make."""
    missing = []
    path = root.absolute()
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _remove_empty_dirs(top: Path) -> None:
    """Remove `top` and the folders below it that are empty (bottom-up); never a file."""
    if not top.is_dir() or top.is_symlink():
        return
    for dirpath, _dirnames, _files in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _os_message(error: OSError, action: str, path: Path | str | None = None) -> str:
    """An OS error as a sentence: which path, what went wrong, and what to do."""
    where = error.filename or path or ""
    reason = error.strerror or str(error)
    if isinstance(error, PermissionError):
        hint = "check the permissions of the file and its folder"
    elif error.errno == errno.ENOSPC:
        hint = "free some disk space"
    elif error.errno == errno.ENAMETOOLONG:
        hint = "use a shorter name"
    elif error.errno == errno.EROFS:
        hint = "the disk is read-only; copy the dataset somewhere writable"
    else:
        hint = "check the disk and try again"
    return f"{where}: cannot {action}: {reason} ({hint})"
