"""Every pytest-qt wait gets at least two minutes, whatever the test asked for.

pytest-qt gives up after 5 s by default and tests asked for 3-30 s by hand. On a loaded CI machine a worker
thread can wait longer than that for a core (stop 28 failed so: an import's follow-up transcription, a
stand-in that returns at once, was not done after 5 s). The waits are on conditions, so a longer limit
costs nothing when the code is right; it only turns "slow machine" back into "passes", and a real hang
still fails, just later.
"""

from __future__ import annotations

import functools

from pytestqt.qtbot import QtBot

PATIENCE_MS = 120_000
WAITS = ("waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive")


def _patient(wait):
    @functools.wraps(wait)
    def patient_wait(self, *args, timeout: int = PATIENCE_MS, **kwargs):
        return wait(self, *args, timeout=max(timeout, PATIENCE_MS), **kwargs)

    patient_wait.is_patient = True
    return patient_wait


def make_qtbot_waits_patient() -> None:
    """Raise the limit of every QtBot wait to PATIENCE_MS (once, however often conftest is imported)."""
    for name in WAITS:
        wait = getattr(QtBot, name)
        if not getattr(wait, "is_patient", False):
            setattr(QtBot, name, _patient(wait))
