"""start_job: the one way to run work off the GUI thread, kept alive and cancelled on shutdown."""

import threading

from PySide6.QtWidgets import QWidget

from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.common.jobs import jobs_of, start_job, stop_jobs


def test_progress_and_result_arrive_in_the_gui_thread(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    seen, done = [], []

    def work(emit, _cancel):
        emit(1)
        emit(2)
        return "ok"

    def record(value):
        seen.append((value, threading.current_thread() is threading.main_thread()))

    start_job(owner, work, on_success=done.append, on_progress=record)
    qtbot.waitUntil(lambda: done == ["ok"], timeout=30000)
    assert seen == [(1, True), (2, True)]
    qtbot.waitUntil(lambda: not jobs_of(owner), timeout=30000)


def test_an_error_is_one_message(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    failures = []

    def work(_emit, _cancel):
        raise IntentDeskError("the hub is unreachable")

    start_job(owner, work, on_failure=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=30000)
    assert failures == ["the hub is unreachable"]


def test_stop_jobs_cancels_and_waits(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    started = threading.Event()

    def work(_emit, cancel):
        started.set()
        cancel.wait(30)
        return "cancelled" if cancel.is_set() else "timed out"

    job = start_job(owner, work)
    assert started.wait(60)
    assert jobs_of(owner) == [job]
    stop_jobs(owner)
    assert job.isFinished() and jobs_of(owner) == []


def test_a_job_that_ends_at_once_still_reports_its_end(qtbot):
    """The thread may end before `start_job` returns (an unreadable file fails in microseconds): the end must
    still reach the caller, so it is connected before the thread starts, never by the caller afterwards."""
    owner = QWidget()
    qtbot.addWidget(owner)
    ended = []
    job = start_job(owner, lambda emit, cancel: None, on_finished=lambda: ended.append("ended"))
    assert job.wait(120000)  # over before the GUI thread did anything else
    qtbot.waitUntil(lambda: ended == ["ended"])
