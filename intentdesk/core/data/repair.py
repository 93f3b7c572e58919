"""Repair on open: finish imports that were killed, adopt orphaned audio, re-find moved clips;
and undo a dataset that a failed first import created.

Audio is written first and metadata.csv last, so an interrupted change can leave files that the
metadata does not list yet (or lists under their old folder). Opening the dataset puts that
right, under the lock, without ever deleting audio.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

from intentdesk.core.audio.io import audio_files_under
from intentdesk.core.data import CLIPS, HASH_INDEX, JOURNAL, LOCK_FILE, METADATA, STAGING, TRASH
from intentdesk.core.data.lock import DatasetLock
from intentdesk.core.data.metadata_csv import METADATA_LIMITS, Clip, load_clips
from intentdesk.core.data.placement import ClipFolder, taken_names
from intentdesk.core.data.safety import file_name_problem, inside, label_problem, remove_empty_dirs
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import move_no_clobber
from intentdesk.core.json_files import JsonProblem, read_json

IMPORT_FOLDER = re.compile(r"[0-9a-f]{32}")  # `journal.staging_folder`'s names (uuid4().hex)


def recover_staging(files: ClipFolder, clips: list[Clip]) -> list[Clip]:
    """The clips of killed imports, to add to `clips`. Imports killed before their journal are
    dropped (their files were only copies); those killed after it are finished, so a re-run finds
    them already there instead of adding them twice."""
    staging = files.root / STAGING
    if not staging.is_dir() or staging.is_symlink():
        return []
    added: list[Clip] = []
    for folder in sorted(p for p in staging.iterdir() if is_import_staging(p)):
        owner = FileLock(str(staging / f"{folder.name}.lock"))
        try:
            owner.acquire(timeout=0)
        except (Timeout, OSError):
            continue  # an import still running (in this or another process)
        try:
            added += _finish_journal(folder / JOURNAL, files, clips + added)
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            owner.release()
        with contextlib.suppress(OSError):
            os.unlink(staging / f"{folder.name}.lock")
    with contextlib.suppress(OSError):
        staging.rmdir()
    return added


def is_import_staging(folder: Path) -> bool:
    """A folder an import made (`journal.staging_folder`): a random 32-hex name and the lock file made before it.
    Anything else in `.staging/` is the person's (a folder of that name was there before the dataset) and stays:
    taking every sub-folder for a killed import deleted their files."""
    return (folder.is_dir() and not folder.is_symlink() and IMPORT_FOLDER.fullmatch(folder.name) is not None
            and (folder.parent / f"{folder.name}.lock").is_file())


def _finish_journal(journal: Path, files: ClipFolder, clips: list[Clip]) -> list[Clip]:
    """The journal's clips that `clips` lacks, each moved into clips/ if it had not got there yet."""
    try:
        entries = read_json(journal, METADATA_LIMITS.max_bytes)
    except JsonProblem:
        return []  # no journal (killed while copying, nothing reached clips/), or not one an import wrote
    listed = {clip.file_name for clip in clips}
    taken = taken_names(clips)
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
        final = files.root / clip.file_name
        if final.is_file() and not final.is_symlink() and inside(final, files.clips_real()):
            added.append(clip)
        elif staged.is_file() and staged.parent == journal.parent:
            files.place(lambda c=clip: files.unique_name(c.label, c.name, "", taken),
                        lambda path, s=staged: move_no_clobber(s, path), clip)
            added.append(clip)
        listed.add(clip.file_name)
    return added


def adopt_orphans(files: ClipFolder, clips: list[Clip]) -> int:
    """Give rows to audio files in `clips/<label>/` that `clips` does not list (label = their folder),
    re-pointing a listed clip whose file is gone to its moved file of the same name; how many rows
    were added or re-pointed (0: `clips` is unchanged). Only regular files directly in a label folder are
    adopted (no links)."""
    clips_dir = files.root / CLIPS
    if not clips_dir.is_dir() or clips_dir.is_symlink():
        return 0
    listed = {os.path.normcase(clip.file_name) for clip in clips}
    orphans: dict[str, list[Path]] = {}
    for folder in sorted(p for p in clips_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        if label_problem(folder.name):
            continue
        for path in audio_files_under(folder, recursive=False):
            if (path.is_file() and not path.is_symlink()
                    and os.path.normcase(f"{CLIPS}/{folder.name}/{path.name}") not in listed):
                orphans.setdefault(path.name, []).append(path)
    changed = 0
    for clip in clips if orphans else []:
        if orphans.get(clip.name) and not (files.root / clip.file_name).exists():
            moved = orphans[clip.name].pop(0)
            clip.file_name = moved.relative_to(files.root).as_posix()
            clip.label = moved.parent.name
            changed += 1
    for paths in orphans.values():
        for path in paths:
            clips.append(Clip(path.relative_to(files.root).as_posix(), path.parent.name, {}))
            changed += 1
    return changed


def undo_creation(lock: DatasetLock, new_dirs: list[Path], before: set[str], clips_existed: bool) -> None:
    """After a failed import into a dataset this command created: remove what it created, if the
    dataset is still empty. Only unlink/rmdir of known names: never a tree, never older files."""
    root = lock.root
    with contextlib.suppress(DatasetError, OSError):
        with lock.held():
            if (root / METADATA).is_file() and load_clips(root, ClipFolder(root).clips_real())[0]:
                return  # another writer added clips meanwhile: the dataset is in use, keep it
            for name in (METADATA, HASH_INDEX):
                if name not in before:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(root / name)
            if not clips_existed:
                remove_empty_dirs(root / CLIPS)
            for name in (STAGING, TRASH):
                if name not in before:
                    remove_empty_dirs(root / name)
        if LOCK_FILE not in before:
            os.unlink(root / LOCK_FILE)
    for folder in new_dirs:  # the dataset folder, then any parents made for it
        with contextlib.suppress(OSError):
            folder.rmdir()
