"""Python's cyclic garbage collector runs only in the GUI thread while the app is up.

Automatic collection runs in whichever thread happens to allocate. When that is a worker
(loading a model, training), it may free the Python wrapper of a Qt object (a closed window,
a finished job) there, and Qt destroying a widget off the GUI thread is a segmentation fault.
CI caught exactly that: `Garbage-collecting` inside `from_pretrained` in a training worker,
then SIGSEGV. So automatic collection is switched off and the GUI thread collects on a timer
(pyqtgraph's `GarbageCollector`, which honours the usual generation thresholds).
Reference counting, which frees almost everything (tensors included), is unaffected.
"""

from __future__ import annotations

_collector = None


def collect_in_gui_thread() -> None:
    """Idempotent; call from the GUI thread before any worker thread starts."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=0.5)
