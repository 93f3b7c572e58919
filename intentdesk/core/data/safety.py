"""What may become a label, a clip path or a file name, and OS refusals told as sentences.

Labels become folder names and rows name files, so both are checked before any file moves:
nothing a metadata.csv, a trash batch or an import says can lead outside the dataset.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path, PurePosixPath

from intentdesk.core.csv_cells import starts_like_a_formula
from intentdesk.core.data import CLIPS
from intentdesk.core.errors import DatasetError, first_line
from intentdesk.core.labels import label_text_problem

MAX_STEM_BYTES = 120  # file names stay far below the 255-byte limit, counter and suffix included
_LABEL_OK = re.compile(r"^[\w][\w .\-+']{0,63}$", re.UNICODE)


def validate_label(label: str) -> str:
    """Labels become folder names, so new ones must be safe ones: letters, digits, space, `_-.+'`."""
    label = (label or "").strip()
    if not label or not _LABEL_OK.match(label) or label in {".", ".."}:
        raise DatasetError(f"invalid label {label!r}: use 1-64 letters, digits, spaces or _ - . + '")
    return label


def label_problem(label: str | None) -> str | None:
    """Why a label read from a file (metadata.csv, phrases.csv, the trash, a journal) cannot be a label
    (`labels.label_text_problem`: the rule model labels follow too) or a folder name; None when it can.

    Looser than `validate_label` (a hand-made dataset may use `?` or `:`), but never a path.
    """
    if label is None or not label.strip():
        return "has no label"
    problem = label_text_problem(label)
    if problem is not None:
        return f"has label {first_line(repr(label), 60)}, which {problem}"
    if "/" in label or "\\" in label:
        return f"has label {label!r}, which contains a path separator"
    if label.startswith(".") or len(label.encode()) > 200:
        return f"has label {label!r}; a label cannot start with a dot or be that long"
    if starts_like_a_formula(label):
        return (f"has label {label!r}; a label cannot start with = + - @ (a spreadsheet would run it as a "
                "formula): rename it")
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


def path_problem(path: Path | str, file_name: str, clips_real: str,
                 folders: dict[str, str] | None = None) -> str | None:
    """Why an existing-or-not clip path is unsafe once links are followed; None when it is fine.

    `folders` caches resolved folders across the rows of one metadata.csv (a few label folders
    for thousands of clips): then a row costs one lstat, not a full path resolution.
    """
    folders = {} if folders is None else folders
    parent, name = os.path.split(os.fspath(path))
    if parent not in folders:
        folders[parent] = real(parent)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0  # missing: only its folders matter
    resolved = real(path) if stat.S_ISLNK(mode) else os.path.join(folders[parent], os.path.normcase(name))
    if not (resolved == clips_real or resolved.startswith(clips_real.rstrip(os.sep) + os.sep)):
        return f"has file_name {file_name!r}, which is a link to {os.path.realpath(path)}, outside the dataset"
    if stat.S_ISDIR(mode) or (stat.S_ISLNK(mode) and os.path.isdir(path)):
        return f"has file_name {file_name!r}, which is a folder, not an audio file"
    return None


def real(path: Path | str) -> str:
    """`path` with links resolved and case folded where the OS folds it: comparable as a string."""
    return os.path.normcase(os.path.realpath(path))


def inside(path: Path, base_real: str) -> bool:
    """Whether `path`, links resolved, is `base_real` (already resolved) or below it."""
    resolved = real(path)
    return resolved == base_real or resolved.startswith(base_real.rstrip(os.sep) + os.sep)


def safe_stem(stem: str) -> str:
    """A file-name stem of word characters, dots and dashes, at most MAX_STEM_BYTES of UTF-8."""
    stem = re.sub(r"[^\w.\-]+", "_", stem).strip("._") or "clip"
    encoded = stem.encode()
    if len(encoded) > MAX_STEM_BYTES:
        stem = encoded[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip("._-") or "clip"
    return stem


def safe_suffix(suffix: str) -> str:
    """A lower-case file suffix of word characters only (".WAV" -> ".wav"), or "" when none is left."""
    suffix = re.sub(r"[^\w]+", "", suffix.lower())[:12]
    return f".{suffix}" if suffix else ""


def missing_dirs(root: Path) -> list[Path]:
    """`root` and its parents that do not exist yet (deepest first): what creating `root` would make."""
    missing = []
    path = root.absolute()
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def remove_empty_dirs(top: Path) -> None:
    """Remove `top` and the folders below it that are empty (bottom-up); never a file."""
    if not top.is_dir() or top.is_symlink():
        return
    for dirpath, _dirnames, _files in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def os_message(error: OSError, action: str, path: Path | str | None = None) -> str:
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
    return f"{where}: cannot {action}: {reason} ({hint})" if where else f"cannot {action}: {reason} ({hint})"
