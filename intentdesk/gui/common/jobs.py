"""The one bridge between core callbacks and Qt: a job runs in a QThread, its events become signals.

Core code reports progress through plain callbacks; here those callbacks emit Qt signals,
which Qt delivers to the GUI thread (queued connections), so widgets are only ever touched
from the thread that owns them.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal

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
