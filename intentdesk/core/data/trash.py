"""The trash: deleted clips wait in `.trash/<batch>/` with their rows, so a delete can be undone.

A batch's rows.json is read as suspiciously as metadata.csv (it may have been edited): a row that
leads outside the trash or has an unsafe label refuses the whole undo before anything moves.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from intentdesk.core.data import TRASH, TRASH_ROWS
from intentdesk.core.data.metadata_csv import METADATA_LIMITS, Clip, clip_from_row
from intentdesk.core.data.placement import ClipFolder, move_back
from intentdesk.core.data.safety import file_name_problem, inside, label_problem, real
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import atomic_open, move_no_clobber
from intentdesk.core.json_files import JsonProblem, read_json


def new_batch(files: ClipFolder, doomed: list[Clip]) -> Path:
    """A new batch folder holding the rows of the clips about to be deleted (no audio yet); when the
    rows cannot be written (a full disk), the folders made for it are removed again."""
    made_trash = not os.path.lexists(files.root / TRASH)
    batch_dir = files.own_dir(TRASH) / f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
    try:
        batch_dir.mkdir()
        with atomic_open(batch_dir / TRASH_ROWS) as handle:
            json.dump([clip.row() for clip in doomed], handle)
    except BaseException:
        for folder in (batch_dir, batch_dir.parent) if made_trash else (batch_dir,):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return batch_dir


def move_into(batch_dir: Path, doomed: list[Clip], sources: list[Path]) -> None:
    """Move the deleted clips' files into their batch (a file already gone is skipped)."""
    for clip, source in zip(doomed, sources):
        if not os.path.lexists(source):
            continue  # already gone: the row is removed, there is no file to keep
        target = batch_dir / clip.file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # `target` is in a folder made just now: nothing to overwrite


def batches(root: Path) -> list[Path]:
    """The trash batches that can be restored, oldest first."""
    trash = root / TRASH
    if not trash.is_dir() or trash.is_symlink():
        return []
    return sorted(p for p in trash.iterdir() if not p.is_symlink() and (p / TRASH_ROWS).is_file())


def batch_rows(root: Path, batch_dir: Path) -> list[Clip]:
    """The rows of a trash batch, each checked like a metadata row (the file may have been edited)."""
    rows_file = batch_dir / TRASH_ROWS
    try:
        rows = read_json(rows_file, METADATA_LIMITS.max_bytes)
    except JsonProblem as error:
        raise DatasetError(f"{rows_file}: cannot be read ({error}); the deleted files stay in {batch_dir}") \
            from error
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DatasetError(f"{rows_file}: is not a list of rows; the deleted files stay in {batch_dir}")
    batch_real = os.path.join(real(root), TRASH, batch_dir.name)
    clips = []
    for number, row in enumerate(rows, start=1):
        clip = clip_from_row({str(k): (v if isinstance(v, str) else None) for k, v in row.items()})
        problem = file_name_problem(clip.file_name) or label_problem(clip.label)
        if problem is None and not inside(batch_dir / clip.file_name, batch_real):
            problem = f"has file_name {clip.file_name!r}, which leads outside the trash"
        if problem is not None:
            raise DatasetError(f"{rows_file}, row {number}: the row {problem}; nothing was restored "
                               f"(the deleted files stay in {batch_dir})")
        clips.append(clip)
    return clips


def restore(files: ClipFolder, batch_dir: Path, rows: list[Clip], taken: set[str],
            commit: Callable[[list[Clip]], None]) -> list[Clip]:
    """Move a batch's files back (under their old name when it is free), then `commit` their rows;
    on any failure the files go back to the trash. Files the rows do not list stay in the trash."""
    restored: list[Clip] = []
    moves: list[tuple[Path, Path]] = []
    try:
        for clip in rows:
            source = batch_dir / clip.file_name
            if not source.is_file() or source.is_symlink():
                continue

            def name(c: Clip = clip, w: str = clip.file_name) -> str:
                if c.name.casefold() not in taken and not os.path.lexists(files.root / w):
                    taken.add(c.name.casefold())
                    return w
                return files.unique_name(c.label, c.name, "", taken)

            destination = files.place(name, lambda path, s=source: move_no_clobber(s, path), clip)
            moves.append((destination, source))
            restored.append(clip)
        commit(restored)
    except BaseException:
        move_back(moves)
        raise
    return restored

