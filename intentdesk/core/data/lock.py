"""The dataset's inter-process lock: one writer at a time, across windows, commands and threads.

A second writer waits up to LOCK_TIMEOUT_S, then hears "the dataset is busy". A folder that
cannot be written cannot be locked either: that is `ReadOnly`, so a reader can still go on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from intentdesk.core.data import LOCK_FILE
from intentdesk.core.data.safety import os_message
from intentdesk.core.errors import DatasetError

LOCK_TIMEOUT_S = 30.0  # how long a second writer waits before "the dataset is busy"


class ReadOnly(DatasetError):
    """The dataset folder cannot be written (so it cannot be locked either)."""


class DatasetLock:
    """`root`'s lock file, held re-entrantly: nested `held()` blocks in one thread take it once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._mutex = threading.RLock()
        self._depth = 0
        self._file_lock: FileLock | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block; DatasetError ("busy") after LOCK_TIMEOUT_S, ReadOnly if unwritable."""
        busy = (f"{self.root}: the dataset is busy: another IntentDesk window or command is changing it; "
                "try again when it has finished")
        if not self._mutex.acquire(timeout=LOCK_TIMEOUT_S):
            raise DatasetError(busy)
        try:
            if self._depth == 0:
                self._acquire_file(busy)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._file_lock.release()
        finally:
            self._mutex.release()

    def _acquire_file(self, busy: str) -> None:
        if self._file_lock is None:
            self._file_lock = FileLock(str(self.root / LOCK_FILE))
        try:
            self._file_lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout as error:
            raise DatasetError(busy) from error
        except OSError as error:
            raise ReadOnly(os_message(error, f"change the dataset {self.root}")) from error

    @contextlib.contextmanager
    def unless_busy(self) -> Iterator[bool]:
        """Whether no other thread of this process is changing the dataset now (without waiting);
        while True, that stays so for the block."""
        free = self._mutex.acquire(blocking=False)
        try:
            yield free
        finally:
            if free:
                self._mutex.release()
