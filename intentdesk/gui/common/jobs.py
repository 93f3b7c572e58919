"""The one bridge between core callbacks and Qt: `start_job` runs work in a QThread, its events become signals.

Core code reports progress through plain callbacks; here those callbacks emit Qt signals,
which Qt delivers to the GUI thread (queued connections), so widgets are only ever touched
from the thread that owns them.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from intentdesk.core.errors import IntentDeskError

JobFunction = Callable[[Callable[[object], None], threading.Event], object]


class Job(QThread):
    """Runs `function(emit, cancel)` off the GUI thread.

    `progress` carries each object the function emits; exactly one of `succeeded` (with the
    return value) or `failed` (with a user-readable message) follows.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, function: JobFunction, parent=None) -> None:
        super().__init__(parent)
        self._function = function
        self.cancel_event = threading.Event()

    def run(self) -> None:
        try:
            result = self._function(self.progress.emit, self.cancel_event)
        except IntentDeskError as error:
            self.failed.emit(str(error))
        except Exception as error:  # a bug: show it rather than die silently in a thread
            self.failed.emit(f"unexpected error: {error}\n\n{traceback.format_exc(limit=6)}")
        else:
            self.succeeded.emit(result)

    def cancel(self) -> None:
        self.cancel_event.set()

    def cancel_and_wait(self, timeout_ms: int = 10000) -> bool:
        """Ask the job to stop and wait for its thread; True when it has ended."""
        self.cancel_event.set()
        return self.wait(timeout_ms)


_running: set[Job] = set()  # Python references keep each job alive until its thread has ended


def start_job(owner: QObject, function: JobFunction, on_success: Callable[[object], None] | None = None,
              on_failure: Callable[[str], None] | None = None,
              on_progress: Callable[[object], None] | None = None) -> Job:
    """The one way a tab launches background work: `function(emit, cancel)` runs in a thread
    owned by `owner`; the callbacks run in the GUI thread. `stop_jobs(owner)` cancels them."""
    job = Job(function, owner)
    if on_progress is not None:
        job.progress.connect(on_progress)
    if on_success is not None:
        job.succeeded.connect(on_success)
    if on_failure is not None:
        job.failed.connect(on_failure)
    job.finished.connect(lambda: _running.discard(job))
    _running.add(job)
    job.start()
    return job


def jobs_of(owner: QObject) -> list[Job]:
    """The jobs `owner` started that have not finished yet."""
    return [job for job in _running if job.parent() is owner]


def stop_jobs(owner: QObject, timeout_ms: int = 5000) -> None:
    """Cancel `owner`'s jobs and wait for their threads (on shutdown, before widgets go away)."""
    for job in jobs_of(owner):
        job.cancel_and_wait(timeout_ms)
        _running.discard(job)
