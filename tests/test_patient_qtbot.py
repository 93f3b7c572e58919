"""The suite-wide floor on pytest-qt waits is in force (a test that asked for 50 ms still waits for the
condition that comes true later)."""

from PySide6.QtCore import QTimer

from tests.patient_qtbot import PATIENCE_MS, WAITS


def test_a_short_timeout_asked_for_still_waits_for_the_condition(qtbot):
    done = []
    QTimer.singleShot(300, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=50)  # without the floor: TimeoutError after 50 ms
    assert done


def test_every_wait_of_qtbot_is_patient(qtbot):
    assert PATIENCE_MS >= 60_000
    assert all(getattr(type(qtbot), name).is_patient for name in WAITS)
