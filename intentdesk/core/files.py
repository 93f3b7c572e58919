"""Files on disk: crash-safe writes (temporary file, fsync, rename) and one answer to a full disk.

A rename within one file system is atomic, so a reader (or the next start after a crash) sees
either the old file or the complete new one, never a half-written file.

Two kinds of rename: `atomic_open`/`atomic_write_bytes` *replace* the target (right for a file
the caller owns, like metadata.csv), while `atomic_create_bytes`/`move_no_clobber`
*never* replace an existing file (right for clips: another writer may have just saved a clip
under the same name, and overwriting it would silently lose a recording).

A full disk is one path everywhere: `stop_when_disk_full` around a command's writes turns ENOSPC
or EDQUOT (also when a library kept only the text, as safetensors does) into one `DiskFull`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from intentdesk.core.errors import DiskFull

_UMASK = os.umask(0o022)  # read once, at import (setting it is process-wide: not from worker threads)
os.umask(_UMASK)
# Errors that mean "this file system cannot make hard links", not "the target exists".
_NO_HARD_LINKS = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# How libraries that wrap the OS error in their own type say it: safetensors ("I/O error: No space left
# on device (os error 28)"), shutil.Error (a list of "[Errno 28] ..."), sqlite ("database or disk is full").
_DISK_FULL_TEXT = re.compile(r"no space left on device|disk quota exceeded|database or disk is full|storagefull"
                             rf"|os error (?:{'|'.join(str(n) for n in sorted(DISK_FULL_ERRNOS))})\b", re.IGNORECASE)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _temporary_beside(path) as tmp_name:
        with open(tmp_name, mode, **kwargs) as handle:
            yield handle
            _finish(handle)
        os.replace(tmp_name, path)


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[str]:
    """A temporary file name in `path`'s folder (same file system, so renaming it is atomic); removed after."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp_name, file_mode(path))  # mkstemp makes it private (0600): the file must keep its access
    try:
        yield tmp_name
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)  # after a successful rename the name is gone already


def file_mode(path: Path) -> int:
    """The permissions the written file gets: those of the file it replaces, else what a plain
    `open()` would give a new file (0666 less the umask)."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    return 0o666 & ~_UMASK


def folder_mode(path: Path) -> int:
    """The permissions a folder written in place of `path` gets: those of `path`, else what a plain
    `mkdir()` would give (0777 less the umask)."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    return 0o777 & ~_UMASK


def _finish(handle: IO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def move_no_clobber(source: Path, destination: Path) -> None:
    """Rename `source` to `destination`; FileExistsError (and nothing moved) if `destination` exists.

    `os.replace` would silently overwrite. A hard link fails atomically when the name is taken;
    where the file system has no hard links, the name is first reserved with O_EXCL.
    """
    try:
        os.link(source, destination, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        fd = os.open(destination, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # FileExistsError when taken
        os.close(fd)
        try:
            os.replace(source, destination)  # replaces only our own empty placeholder
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(destination)
            raise
        return
    os.unlink(source)


def atomic_create_bytes(path: Path, data: bytes) -> None:
    """Write a new file atomically; FileExistsError if `path` exists (it is left untouched)."""
    path = Path(path)
    with _temporary_beside(path) as tmp_name:
        with open(tmp_name, "wb") as handle:
            handle.write(data)
            _finish(handle)
        move_no_clobber(Path(tmp_name), path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write (or replace) `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def is_disk_full(error: BaseException | None) -> bool:
    """Whether `error`, or one it was raised from or while handling, says the disk or quota is full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS):
            return True
        if _DISK_FULL_TEXT.search(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def free_bytes(path: Path | str) -> int | None:
    """Free space on the disk holding `path` (its nearest existing folder); None when unknown."""
    path = Path(path).absolute()
    with contextlib.suppress(OSError, StopIteration):
        return shutil.disk_usage(next(p for p in (path, *path.parents) if p.exists())).free
    return None


@contextlib.contextmanager
def stop_when_disk_full(folder: Path | str, outcome: str = "nothing was changed") -> Iterator[None]:
    """Turn a full disk anywhere in the block into `DiskFull` for `folder` (or for the file's own
    place when the failed write was outside `folder`, such as a cache), saying `outcome`.

    Put it outside the block's cleanup, so the free space it reports is measured after that. A
    `DiskFull` from an inner guard keeps its place and outcome; only the free space is measured again.
    """
    try:
        yield
    except Exception as error:
        if not is_disk_full(error):
            raise
        if isinstance(error, DiskFull):
            raise DiskFull(error.folder, free_bytes(error.folder), error.outcome) from error.__cause__
        where = _written_place(error, Path(folder))
        raise DiskFull(where, free_bytes(where), outcome) from error


def _written_place(error: BaseException, folder: Path) -> Path:
    """`folder`, unless the error names a file outside it: then that file's folder."""
    name = getattr(error, "filename", None)
    if not isinstance(name, (str, os.PathLike)):
        return folder
    written = Path(os.path.abspath(name))
    base = Path(os.path.abspath(folder))
    return folder if written == base or base in written.parents else written.parent
