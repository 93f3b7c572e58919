"""Train tab: a tiny model on a small learnable dataset, driven through the widgets."""

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
from PySide6.QtWidgets import QLabel

from intentdesk.core.data.importers import import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.runs import read_record
from intentdesk.gui.main_window import MainWindow
from tests.helpers import settle, tone, write_tone_folder


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings, list_devices=lambda: [])
    qtbot.addWidget(win)
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=8)))
    win.open_dataset(store.root)
    yield win
    win.train_tab.confirm_close(win)
    win.classify_tab.shutdown()


def configure(tab, base, epochs=4, full=True, warm_start=None):
    form = tab.form
    form.base_combo.setCurrentText(str(base))
    form.set_mode("full" if full else "quick")
    form.field("epochs").setValue(epochs)
    form.field("learning_rate").setValue(3e-3)
    form.field("batch_size").setValue(4)
    form.advanced.setChecked(True)
    form.field("head_learning_rate").setValue(3e-3)
    form.field("label_smoothing").setValue(0.0)
    if warm_start is not None:
        form.field("warm_start_epochs").setValue(warm_start)


def test_training_run_end_to_end(qtbot, window, tiny_wav2vec2):
    tab = window.train_tab
    configure(tab, tiny_wav2vec2, epochs=3)
    steps, epochs = [], []
    tab.job = None
    assert tab.start()
    tab.job.progress.connect(lambda e: (steps if type(e).__name__ == "StepEvent" else epochs).append(e))
    with qtbot.waitSignal(tab.run_finished, timeout=300000) as finished:
        pass
    result = read_record(finished.args[0])
    assert tab.progress.bar.value() == tab.progress.bar.maximum()
    assert len(tab.curves.epochs) == len(result.history) == 3 + tab.form.field("warm_start_epochs").value()
    assert len(tab.curves.steps) == len(result.metrics["step_losses"]) > 0
    assert result.output_dir.is_dir() and (result.output_dir / "metrics.json").is_file()
    assert result.output_dir.parent == window.store.root / "models"
    assert result.metrics["accuracy"] >= 0.9
    assert "accuracy" in tab.results.summary.text() and tab.results.per_class.rowCount() == 3
    assert tab.results.confusion.matrix.shape == (3, 3)
    assert tab.curves.best_lines[0].isVisible()
    assert tab.runs.list.count() == 1
    # Use in Classify hands the model over.
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        tab.runs.use_button.click()
    assert window.tabs.currentWidget() is window.classify_tab


@pytest.mark.timing
def test_the_event_loop_never_stalls_while_training(qtbot, window, tiny_wav2vec2):
    """A 10 ms timer never waits more than 100 ms while a run trains (nothing slow on the GUI thread).
    A real timing check, so outside the suite: `pytest -m timing` on a quiet machine."""
    tab = window.train_tab
    configure(tab, tiny_wav2vec2, epochs=3)
    gaps, clock = [], QElapsedTimer()
    timer = QTimer(interval=10, timeout=lambda: gaps.append(clock.restart()))
    assert tab.start()
    clock.start()
    timer.start()
    with qtbot.waitSignal(tab.run_finished, timeout=120000):
        pass
    timer.stop()
    assert max(gaps[2:]) < 100, f"event loop stalled {max(gaps)} ms"


def test_cancel_mid_run_keeps_best_model(qtbot, window, tiny_wav2vec2):
    """Cancel stops the run where it is (long before its 200 passes) and keeps the best model so far."""
    tab = window.train_tab
    configure(tab, tiny_wav2vec2, epochs=200, warm_start=0)
    assert tab.start()
    qtbot.waitUntil(lambda: len(tab.curves.epochs) >= 1, timeout=120000)
    tab.cancel()
    with qtbot.waitSignal(tab.run_finished, timeout=120000) as finished:
        pass
    result = read_record(finished.args[0])
    assert result.cancelled and (result.output_dir / "config.json").is_file()
    assert 1 <= len(result.history) < 200


def test_blocked_start_explains_why(qtbot, tmp_path, tiny_wav2vec2):
    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), list_devices=lambda: [])
    qtbot.addWidget(win)
    store = DatasetStore.create(tmp_path / "one")
    store.add_array(tone(300, 0.5), 16000, "only")
    win.open_dataset(store.root)
    tab = win.train_tab
    tab.form.base_combo.setCurrentText(str(tmp_path / "missing-model"))
    assert not tab.start()
    assert "at least 2 are needed" in tab.blockers.text()
    for label, pitch in (("only", 320), ("other", 500), ("other", 520)):
        store.add_array(tone(pitch, 0.5), 16000, label)
    win.open_dataset(store.root)
    assert tab.start(), "the base model is checked by the run's job, off the GUI thread"
    qtbot.waitUntil(lambda: "missing-model" in tab.blockers.text(), timeout=30000)
    assert "model folder not found" in tab.blockers.text() and not tab.start_button.isEnabled()
    tab.form.base_combo.setCurrentText("facebook/wav2vec2-base")
    assert "facebook/wav2vec2-base is not on this computer, and this computer works offline" in tab.warnings.text()
    assert tab.start()
    qtbot.waitUntil(lambda: "hub cannot be reached" in tab.blockers.text(), timeout=30000)
    qtbot.waitUntil(lambda: "did not start: the reasons are under the settings" in tab.progress.phase.text(),
                    timeout=30000)
    tab.form.base_combo.setCurrentText(str(tiny_wav2vec2))
    assert "works offline" not in tab.warnings.text()
    assert tab.progress.phase.text() == "", "the line about the last Start goes once nothing stops the next"


def test_unreadable_clip_is_named_before_start(qtbot, window, tiny_wav2vec2):
    victim = window.store.clips[0]
    window.store.path_of(victim).write_bytes(b"garbage")
    tab = window.train_tab
    configure(tab, tiny_wav2vec2)
    statuses = []
    tab.status.connect(statuses.append)
    assert tab.start()
    qtbot.waitUntil(lambda: victim.file_name in tab.blockers.text(), timeout=30000)
    assert statuses[-1] == "Training did not start" and not tab.start_button.isEnabled()
    assert not (window.store.root / "models").exists() or not any((window.store.root / "models").iterdir())


def test_close_while_training_cancels_cleanly(qtbot, window, tiny_wav2vec2, monkeypatch):
    tab = window.train_tab
    configure(tab, tiny_wav2vec2, epochs=200)
    assert tab.start()
    qtbot.waitUntil(lambda: len(tab.curves.steps) > 0, timeout=60000)
    monkeypatch.setattr(tab, "ask_close", lambda parent: False)
    window.close()
    assert tab.is_running(), "answering no keeps the window and the run"
    monkeypatch.setattr(tab, "ask_close", lambda parent: True)
    window.close()
    assert not tab.is_running() and tab.job.isFinished()


def test_confusion_matrix_fits_its_widget_at_the_usual_window_size(qtbot, window):
    """14 intents with long names, a 1260 x 820 window: the plot must not overflow (and clip)."""
    tab = window.train_tab
    window.show_tab("train")
    window.resize(1260, 820)
    window.show()
    qtbot.waitExposed(window)
    labels = [f"high_value_intent_{i}" for i in range(14)]
    confusion = tab.results.confusion
    confusion.set_matrix(np.eye(14, dtype=int).tolist(), labels)
    tab.views.setCurrentWidget(tab.results)
    qtbot.waitUntil(confusion.isVisible)
    settle()
    assert confusion.getPlotItem().minimumWidth() <= confusion.width()


def test_the_slow_checks_before_a_run_never_run_on_the_gui_thread(qtbot, window, tiny_wav2vec2, monkeypatch):
    """Reading every clip's header and asking the hub froze the window on a large dataset or a slow network."""
    import threading

    from intentdesk.core.data import health

    threads = []

    def slow_check(store, base):
        threads.append(threading.current_thread())
        return ["the hub is slow today"]

    monkeypatch.setattr(health, "start_problems", slow_check)
    tab = window.train_tab
    configure(tab, tiny_wav2vec2)
    assert tab.start()
    qtbot.waitUntil(lambda: "the hub is slow today" in tab.blockers.text(), timeout=30000)
    assert threads and threads[0] is not threading.main_thread()


def test_unfolding_the_advanced_settings_needs_no_sideways_scrolling(qtbot, window):
    """At the usual window size the advanced settings fit the settings' column (they were cut off at the
    right, behind a sideways scroll bar), and the column does not widen under the cursor when they unfold."""
    tab = window.train_tab
    window.show_tab("train")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    settle()
    from intentdesk.gui.train.form_scroll import FormScroll

    scroll = tab.findChild(FormScroll)
    width = scroll.width()
    tab.form.advanced.setChecked(True)
    settle()
    assert scroll.horizontalScrollBar().maximum() == 0
    assert scroll.width() == width
    assert "Tick the box" not in " ".join(label.text() for label in tab.form.advanced.findChildren(QLabel))


def test_what_stops_or_hurts_a_run_is_in_view_beside_start_without_scrolling(qtbot, tmp_path):
    """A newcomer's walk: the reasons were under the settings' scrolled form, unseen at a laptop's height."""
    from intentdesk.gui.train.form_scroll import FormScroll

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), list_devices=lambda: [])
    qtbot.addWidget(win)
    store = DatasetStore.create(tmp_path / "one")
    store.add_array(tone(300, 0.5), 16000, "only")
    win.open_dataset(store.root)
    win.tabs.setCurrentWidget(win.train_tab)
    win.resize(1100, 650)
    win.show()
    qtbot.waitExposed(win)
    tab = win.train_tab
    tab.form.base_combo.setCurrentText("facebook/wav2vec2-base")  # not downloaded, and the tests are offline
    form_scroll = tab.findChild(FormScroll)
    for notice, words in ((tab.blockers, "at least 2 are needed"), (tab.warnings, "works offline")):
        assert words in notice.text() and notice.isVisible() and not form_scroll.isAncestorOf(notice)
        where = notice.mapTo(tab, notice.rect().bottomLeft())
        assert where.y() <= tab.start_button.mapTo(tab, tab.start_button.rect().topLeft()).y()
        assert tab.rect().contains(where)
    for label, pitch in (("only", 320), ("other", 500), ("other", 520)):
        store.add_array(tone(pitch, 0.5), 16000, label)
    win.open_dataset(store.root)
    assert not tab.blockers.isVisible(), "nothing stops the run: no empty line takes room"
