"""The dataset store: one folder that `datasets.load_dataset("audiofolder")` can read (its names: data/__init__.py).

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

This module is the store's face (queries and changes); each rule lives in its own module beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from intentdesk.core.audio import io as audio
from intentdesk.core.data import CLIPS, LOCK_FILE, METADATA, TRASH_ROWS, metadata_csv, trash
from intentdesk.core.data.journal import ImportReport, commit_staged, stage, staging_folder
from intentdesk.core.data.label_numbers import LabelNumbers
from intentdesk.core.data.lock import DatasetLock, ReadOnly
from intentdesk.core.data.metadata_csv import REQUIRED_COLUMNS, Clip, Stamp, read_metadata_table
from intentdesk.core.data.placement import ClipFolder, move_back, taken_names
from intentdesk.core.data.repair import adopt_orphans, recover_staging, undo_creation
from intentdesk.core.data.safety import MAX_STEM_BYTES, missing_dirs, os_message, remove_empty_dirs, validate_label
from intentdesk.core.data.texts import DatasetTexts
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import atomic_create_bytes, move_no_clobber, stop_when_disk_full

# The store's public names, importable from here whichever module beside it defines them.
__all__ = ["CLIPS", "LOCK_FILE", "MAX_STEM_BYTES", "METADATA", "Clip", "DatasetStore", "ImportReport",
           "read_metadata_table", "validate_label"]


class DatasetStore:
    """A labelled clip collection on disk. All mutations are atomic, locked, and undoable where it matters.

    Its collaborators change what lies beside the clips through `change_rows` and `locked`: transcripts and
    typed phrases (`texts`, texts.py), the labels' key numbers (`label_numbers`, label_numbers.py)."""

    def __init__(self, root: Path, clips: list[Clip], columns: list[str]) -> None:
        self.root = Path(root)
        self._clips = clips
        self._columns = columns
        self._stamp: Stamp | None = None
        self._lock = DatasetLock(self.root)
        self._files = ClipFolder(self.root)
        self.texts = DatasetTexts(self)
        self.label_numbers = LabelNumbers(self)
        self.repairs: list[str] = []  # what opening it put right (orphaned audio adopted...), for the user to read
        self.on_copied: Callable[[int, int], None] | None = None  # add_files' (copied, of total): import bars

    # ------------------------------------------------------------------ open / create
    @classmethod
    def create(cls, root: Path) -> DatasetStore:
        """Create an empty dataset (or open the folder when it already is one)."""
        root = Path(root)
        metadata_csv.check_metadata_kind(root / METADATA)
        if root.exists() and not root.is_dir():
            raise DatasetError(f"{root}: exists and is not a folder; choose a folder for the dataset")
        try:
            with stop_when_disk_full(root):
                root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatasetError(os_message(error, f"create the dataset folder {root}")) from error
        store = cls(root, [], list(REQUIRED_COLUMNS))
        with store._transaction(reload=False):
            if (root / METADATA).exists():  # made meanwhile (another process), or there before
                store._load()
                store._repair()
            else:
                store._files.own_dir(CLIPS)
                store._commit([])
        return store

    @classmethod
    def open(cls, root: Path, *, create: bool = False) -> DatasetStore:
        """Open the dataset at `root` (repairing what an interrupted change left), or create it if asked."""
        root = Path(root)
        meta = root / METADATA
        metadata_csv.check_metadata_kind(meta)
        if not meta.is_file():
            if create:
                return cls.create(root)
            raise DatasetError(f"{root}: not an IntentDesk dataset (no {METADATA}); "
                               "create one with File > New dataset or `intentdesk import`")
        store = cls(root, [], [])
        try:
            with store._transaction():
                store._repair()
        except ReadOnly:
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
        new_dirs = missing_dirs(root)
        before = set(os.listdir(root)) if root.is_dir() else set()
        clips_existed = (root / CLIPS).exists()
        try:
            yield cls.create(root)
        except BaseException:
            undo_creation(DatasetLock(root), new_dirs, before, clips_existed)
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
        return bool(trash.batches(self.root))

    # ------------------------------------------------------------------ add
    def add_array(self, samples: np.ndarray, rate: int, label: str, *, stem: str | None = None,
                  extra: dict[str, str] | None = None) -> Clip:
        """Store a recorded take as 16-bit WAV under `clips/<label>/`."""
        label = validate_label(label)
        mono = audio.check_array(samples, rate, name=stem or "recording", limits=audio.AudioLimits(max_seconds=None))
        data = audio.wav_bytes(mono, rate)
        stem = stem or time.strftime("take-%Y%m%d-%H%M%S")
        with self._transaction(), self._files.undoing_new_label_dirs([label]):
            clip = Clip("", label, dict(extra or {}))
            taken = taken_names(self._clips)
            target = self._files.place(lambda: self._files.unique_name(label, stem, ".wav", taken),
                                       lambda path: atomic_create_bytes(path, data), clip)
            try:
                self._commit(self._clips + [clip])
            except BaseException:
                with contextlib.suppress(OSError):
                    target.unlink()
                raise
        return clip

    def add_files(self, items: Iterable[tuple[Path, str, dict[str, str]]]) -> ImportReport:
        """Add many files in one metadata write; unusable ones are skipped and reported by name.

        Sources are copied (and hashed) into a private staging folder without holding the lock,
        and the copies are checked (journal.py). Then, under the lock: duplicates of clips already
        in the dataset (same bytes, same label) are skipped, names are chosen, and the files move
        into `clips/` with one metadata write.

        A full disk stops it at once (`DiskFull`), with the copies made so far removed: nothing changed.
        """
        report = ImportReport()
        with stop_when_disk_full(self.root), \
                staging_folder(self._files, self._transaction, self._lock.held) as staging:
            items, staged = list(items), []
            for n, item in enumerate(items):
                if (copied := stage(staging, n, *item, report)) is not None:
                    staged.append(copied)
                if self.on_copied:
                    self.on_copied(n + 1, len(items))
            if staged:
                with self._transaction():
                    report.added = commit_staged(self._files, self._clips, staging, staged, report,
                                                 lambda added: self._commit(self._clips + added))
        return report

    # ------------------------------------------------------------------ relabel / delete / undo
    def relabel(self, file_names: Iterable[str], new_label: str) -> list[Clip]:
        """Give clips a new label; their files move to `clips/<new_label>/`."""
        new_label = validate_label(new_label)
        names = list(dict.fromkeys(file_names))
        with self._transaction():
            targets = [self._find(name) for name in names]
            for clip in targets:
                if clip.label != new_label and not self._files.clip_path(clip).is_file():
                    raise DatasetError(f"{clip.file_name}: the audio file is missing, so it cannot be relabelled "
                                       "(delete the clip instead)")
            moves: list[tuple[Path, Path]] = []
            updated: dict[str, Clip] = {}
            taken = taken_names(self._clips)
            with self._files.undoing_new_label_dirs([new_label]):
                try:
                    for clip in (c for c in targets if c.label != new_label):
                        moved = Clip("", new_label, dict(clip.extra))
                        source = self._files.clip_path(clip)
                        taken.discard(clip.name.casefold())  # a moved clip may keep its own name
                        destination = self._files.place(
                            lambda c=clip: self._files.unique_name(new_label, c.name, "", taken),
                            lambda path, s=source: move_no_clobber(s, path), moved)
                        moves.append((destination, source))
                        updated[clip.file_name] = moved
                    self._commit([updated.get(clip.file_name, clip) for clip in self._clips])
                except BaseException:
                    move_back(moves)
                    raise
            self._files.remove_empty_label_dirs()
        return list(updated.values())

    def delete(self, file_names: Iterable[str]) -> str:
        """Move clips to the trash as one undoable batch; returns the batch id."""
        names = list(dict.fromkeys(file_names))
        if not names:
            raise DatasetError("nothing to delete")
        with self._transaction():
            doomed = [self._find(name) for name in names]
            sources = [self._files.clip_path(clip) for clip in doomed]  # checks every path before anything moves
            batch_dir = trash.new_batch(self._files, doomed)
            gone = set(names)
            try:
                self._commit([clip for clip in self._clips if clip.file_name not in gone])
            except BaseException:
                shutil.rmtree(batch_dir, ignore_errors=True)  # holds only the rows: nothing was moved yet
                raise
            trash.move_into(batch_dir, doomed, sources)  # metadata first: a crash now leaves orphans, adopted on open
            self._files.remove_empty_label_dirs()
        return batch_dir.name

    def undo_delete(self) -> list[Clip]:
        """Restore the most recently deleted batch of clips.

        Every row of the batch is checked first (rows.json may have been edited): a path outside
        the trash or the dataset, or an unsafe label, refuses the whole undo and moves nothing.
        Files of the batch that its rows do not list are left in the trash, never deleted.
        """
        with self._transaction():
            batches = trash.batches(self.root)
            if not batches:
                raise DatasetError("nothing to undo")
            batch_dir = batches[-1]
            rows = trash.batch_rows(self.root, batch_dir)
            restored = trash.restore(self._files, batch_dir, rows, taken_names(self._clips),
                                     lambda back: self._commit(self._clips + back))
            (batch_dir / TRASH_ROWS).unlink()
            remove_empty_dirs(batch_dir)
        return restored

    # ------------------------------------------------------------------ for the collaborators
    def change_rows(self, change: Callable[[list[Clip]], list[Clip] | None]) -> None:
        """Under the lock, on the rows on disk: `change(rows)` gives the new rows, written atomically (None: none)."""
        with self._transaction():
            rows = change(list(self._clips))
            if rows is not None:
                self._commit(rows)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """The lock (and error handling) of every change, for a file beside metadata.csv that the caller writes."""
        return self._transaction(reload=False)

    # ------------------------------------------------------------------ reading and writing metadata.csv
    @contextlib.contextmanager
    def _transaction(self, reload: bool = True) -> Iterator[None]:
        """Lock, re-read what is on disk, and turn OS errors into messages that say what to do (a full
        disk into `DiskFull`, the same message wherever it happens)."""
        with stop_when_disk_full(self.root), self._lock.held():
            try:
                if reload:
                    self._load()
                yield
            except OSError as error:
                raise DatasetError(os_message(error, f"change the dataset {self.root}")) from error

    def _load(self) -> None:
        self._clips, self._columns, self._stamp = metadata_csv.load_clips(self.root, self._files.clips_real())

    def _refresh(self) -> None:
        """Pick up changes another process made, so that queries show what is on disk.

        Skipped while another thread of this process is changing the dataset (it holds the lock).
        """
        with self._lock.unless_busy() as free, contextlib.suppress(OSError, DatasetError):
            if free and metadata_csv.stamp_of((self.root / METADATA).stat()) != self._stamp:
                self._load()  # on failure, keep what was read last; the next change reports the problem

    def _commit(self, clips: list[Clip]) -> None:
        self._columns, self._stamp = metadata_csv.write_metadata(self.root / METADATA, self._columns, clips)
        self._clips = clips

    def _find(self, file_name: str) -> Clip:
        for clip in self._clips:
            if clip.file_name == file_name:
                return clip
        raise DatasetError(f"no clip {file_name!r} in {self.root}")

    # ------------------------------------------------------------------ repair
    def _repair(self) -> None:
        """Under the lock: finish or drop imports that were killed, adopt orphans, re-find moved clips."""
        added = recover_staging(self._files, self._clips)
        self._clips = self._clips + added
        adopted = adopt_orphans(self._files, self._clips)
        if adopted or added:
            self._commit(self._clips)
        if adopted:  # said, not done silently: rows removed by hand to leave clips out come back this way
            self.repairs.append(f"{METADATA} did not list {adopted} audio file(s) in clips/<label>/ (or listed them "
                                "elsewhere): they are in it now, labelled by their folder; to leave a clip out, move "
                                "its file out of clips/")
        if added:
            self.repairs.append(f"an import that was interrupted is finished: {len(added)} clip(s) added")
