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
              on_progress: Callable[[object], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> Job:
    """The one way a tab launches background work: `function(emit, cancel)` runs in a thread
    owned by `owner`; the callbacks run in the GUI thread, `on_finished` last, after the thread has
    ended. `stop_jobs(owner)` cancels them.

    Every callback is connected before the thread starts: a job that ends at once (a file that cannot
    be read) may finish before the caller's next line, and a signal emitted before its connection is
    lost (a Classify batch then never ended: a test waited 120 s for it on a loaded machine)."""
    job = Job(function, owner)
    if on_progress is not None:
        job.progress.connect(on_progress)
    if on_success is not None:
        job.succeeded.connect(on_success)
    if on_failure is not None:
        job.failed.connect(on_failure)
    if on_finished is not None:
        job.finished.connect(on_finished)
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


class OneJob:
    """The one background job of a panel that runs one at a time (a model download, a transcription):
    `busy` while it runs, `show_running(True)` when it starts and `(False)` when it has ended, then the
    panel's `on_ended` (what it does next)."""

    def __init__(self, owner: QObject, show_running: Callable[[bool], None],
                 on_ended: Callable[[], None] | None = None) -> None:
        self.owner, self.show_running, self.on_ended = owner, show_running, on_ended
        self.job: Job | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    @property
    def cancelled(self) -> bool:
        return self.job is not None and self.job.cancel_event.is_set()

    def start(self, function: JobFunction, on_success: Callable[[object], None],
              on_failure: Callable[[str], None], on_progress: Callable[[object], None]) -> None:
        self.job = start_job(self.owner, function, on_success, on_failure, on_progress, on_finished=self._ended)
        self.show_running(True)  # after `job` is set: the panel reads `busy` (`_ended` comes later, queued)

    def cancel(self) -> bool:
        """Ask the running job to stop (it says so when it has); whether one was running."""
        if self.job is None:
            return False
        self.job.cancel()
        return True

    def release(self) -> None:
        """The job's answer has come (its `finished` follows): the panel is no longer busy."""
        self.job = None

    def shutdown(self) -> None:
        """Cancel and wait for the job (before the panel goes away)."""
        stop_jobs(self.owner)
        self.job = None

    def _ended(self) -> None:
        self.job = None
        self.show_running(False)
        if self.on_ended is not None:
            self.on_ended()
