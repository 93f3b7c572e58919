"""Label tab and main window, offscreen, with a WAV replayed as the microphone."""

import csv

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings, Qt

from intentdesk.core.audio.microphone import InputDevice, MicrophoneError, replay_factory
from intentdesk.core.data.store import DatasetStore
from intentdesk.gui.main_window import MainWindow
from tests.helpers import drop, tone

RATE = 16000


def speech_like_wav(path, lead=0.6, speech=0.8, tail=0.6):
    """Silence, a 'word' (tone burst), silence: what a take sounds like."""
    rng = np.random.default_rng(0)
    wave = np.concatenate([np.zeros(int(lead * RATE)), tone(400, speech, RATE), np.zeros(int(tail * RATE))])
    wave = (wave + rng.normal(0, 0.002, len(wave))).astype(np.float32)
    sf.write(path, wave, RATE)
    return path


@pytest.fixture
def window(qtbot, tmp_path):
    wav = speech_like_wav(tmp_path / "mic.wav")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings, stream_factory=replay_factory(wav, speed=4.0),
                     list_devices=lambda: [InputDevice(-1, "Replay microphone")])
    qtbot.addWidget(win)
    win.open_dataset(tmp_path / "data", create=True)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.label_tab.shutdown()
    win.classify_tab.shutdown()


def metadata(store):
    with open(store.root / "metadata.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def record_take(qtbot, tab, seconds=0.6):
    qtbot.keyClick(tab.record_button, Qt.Key_Space)
    qtbot.waitUntil(lambda: tab.recorder.recorded_seconds >= seconds, timeout=5000)
    qtbot.keyClick(tab.record_button, Qt.Key_Space)
    assert tab.pending is not None


def test_record_label_save_with_keyboard(qtbot, window):
    tab = window.label_tab
    record_take(qtbot, tab, seconds=2.0)
    raw_seconds = 2.0
    assert len(tab.pending) / RATE < raw_seconds - 0.4, "leading/trailing silence should be trimmed"
    assert tab.take_wave.point_count() > 0
    qtbot.keyClicks(tab.label_combo.lineEdit(), "balance")
    qtbot.keyClick(tab.label_combo.lineEdit(), Qt.Key_Return)
    rows = metadata(window.store)
    assert [r["label"] for r in rows] == ["balance"]
    saved = sf.info(str(window.store.root / rows[0]["file_name"]))
    assert 0.7 < saved.duration < 1.4
    # The next take can start at once; key 1 picks the first label.
    record_take(qtbot, tab, seconds=2.0)
    tab.label_combo.setEditText("")
    qtbot.keyClick(tab.table, Qt.Key_1)
    assert tab.label_combo.currentText() == "balance"
    qtbot.keyClick(tab.table, Qt.Key_Return)
    assert window.store.label_counts() == {"balance": 2}
    # Right after a take the label field has focus: 1 still picks the first label...
    record_take(qtbot, tab, seconds=2.0)
    line = tab.label_combo.lineEdit()
    line.selectAll()
    qtbot.keyClick(tab.label_combo, Qt.Key_1)  # the combo has the focus after a take
    assert line.text() == "balance"
    # ...but once the user types, digits are part of the label.
    line.setText("")
    qtbot.keyClicks(line, "card2")
    assert line.text() == "card2"
    qtbot.keyClick(line, Qt.Key_Return)
    assert window.store.label_counts() == {"balance": 2, "card2": 1}
    assert "fewer than 5" in tab.warning_label.text()


def test_relabel_delete_undo(qtbot, window, monkeypatch):
    store = window.store
    for n in range(3):
        store.add_array(tone(300 + 100 * n, 0.5, seed=n), RATE, "freeze", stem=f"c{n}")
    tab = window.label_tab
    tab.refresh()
    tab.table.selectAll()
    monkeypatch.setattr(tab, "ask_label", lambda *a: "balance")
    tab.relabel_selected()
    assert store.label_counts() == {"balance": 3}
    assert all(r["file_name"].startswith("clips/balance/") for r in metadata(store))
    tab.table.selectRow(0)
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key_Delete)
    assert len(metadata(store)) == 2
    qtbot.keyClick(tab.table, Qt.Key_Z, Qt.ControlModifier)
    assert len(metadata(store)) == 3
    assert all((store.root / r["file_name"]).is_file() for r in metadata(store))


def test_dropped_corrupt_file_is_reported_and_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    tab = window.label_tab
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF....not really a wave file")
    before = (window.store.root / "metadata.csv").read_bytes()
    monkeypatch.setattr(tab, "ask_label", lambda *a: "balance")
    drop(tab, [bad])
    qtbot.waitUntil(lambda: tab.message.is_shown(), timeout=5000)
    assert tab.message.kind == "error" and "corrupt.wav" in tab.message.text()
    assert (window.store.root / "metadata.csv").read_bytes() == before


def test_dropped_folder_takes_labels_from_subfolders(qtbot, window, tmp_path):
    src = tmp_path / "drop"
    for label in ("yes", "no"):
        (src / label).mkdir(parents=True)
        sf.write(src / label / "a.wav", tone(500, 0.5), RATE)
    (src / "no" / "broken.wav").write_bytes(b"xx")
    drop(window.label_tab, [src])
    qtbot.waitUntil(lambda: window.label_tab.message.is_shown(), timeout=5000)
    assert window.store.label_counts() == {"no": 1, "yes": 1}
    assert "broken.wav" in window.label_tab.message.text()


def test_no_microphone_is_a_message_not_a_crash(qtbot, tmp_path):
    def no_devices():
        raise MicrophoneError("the PortAudio library is missing")

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), list_devices=no_devices)
    qtbot.addWidget(win)
    assert "PortAudio" in win.label_tab.mic_note.text()
    assert not win.label_tab.record_button.isEnabled()


def test_window_title_recent_and_remembered_dataset(qtbot, window, tmp_path):
    assert window.windowTitle() == "IntentDesk — data"
    assert window.recent_datasets()[0] == str((tmp_path / "data").resolve())
    assert window.settings.value("last/dataset") == str((tmp_path / "data").resolve())
    assert [window.tabs.tabText(i) for i in range(3)] == ["Label", "Train", "Classify"]
    assert DatasetStore.open(tmp_path / "data") is not None


def test_gui_starts_without_torch(tmp_path):
    """Start-up must not pay for torch/transformers, even with a dataset that has trained models:
    they load when a model or a training run is first needed."""
    import subprocess
    import sys

    store = DatasetStore.create(tmp_path / "data")
    store.add_array(tone(300, 0.5), RATE, "a")
    run = tmp_path / "data" / "models" / "2026-01-01_000000_quick_x"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
            "from PySide6.QtCore import QSettings; from intentdesk.gui.app import make_application;"
            "from intentdesk.gui.main_window import MainWindow; from pathlib import Path; app=make_application();"
            f"w=MainWindow(QSettings({str(tmp_path / 's.ini')!r}, QSettings.IniFormat));"
            f"w.open_dataset(Path({str(tmp_path / 'data')!r})); w.show(); app.processEvents();"
            "print(w.classify_tab.model_combo.count(), 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split()[-3:] == ["1", "False", "False"], out.stderr


def test_garbage_cycles_are_collected_in_the_gui_thread_only(qtbot, window):
    """A worker allocating must never run the collector (it may free Qt objects there)."""
    import gc
    import threading

    freed_in = []

    class Node:
        def __del__(self):
            freed_in.append(threading.current_thread())

    assert not gc.isenabled()
    for _ in range(20):  # cycles only the collector can free
        a, b = Node(), Node()
        a.other, b.other = b, a
    del a, b
    worker = threading.Thread(target=lambda: [[object()] for _ in range(100_000)])
    worker.start()
    worker.join()
    assert freed_in == []  # the allocating worker did not collect
    ballast = []

    def collected() -> bool:  # keep the gen-0 count (live new objects) above its threshold
        ballast.extend([] for _ in range(gc.get_threshold()[0]))
        return len(freed_in) == 40

    qtbot.waitUntil(collected, timeout=5000)
    assert set(freed_in) == {threading.main_thread()}
