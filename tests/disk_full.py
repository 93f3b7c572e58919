"""A full disk for tests: a real small tmpfs where mounting is permitted (root, outside most
containers), and the OS error a full disk gives, for monkeypatched writes everywhere else."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def no_space(filename: object = None) -> OSError:
    """What a write into a full disk raises."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([str(filename)] if filename is not None else []))


@contextlib.contextmanager
def small_disk(folder: Path, kilobytes: int = 2048) -> Iterator[Path]:
    """A tmpfs of `kilobytes` mounted at `folder` for the block; the test is skipped where that is
    not permitted (not root, or a container without the right)."""
    folder.mkdir(parents=True, exist_ok=True)
    if getattr(os, "geteuid", lambda: 1)() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """Fill the disk holding `folder` until about `leave` bytes are free; the filler file."""
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(folder).free - leave))
    return filler
