"""Label tab, offscreen, with a scripted microphone (a take holds exactly what the test plays)."""

import csv

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings, Qt

from intentdesk.core.audio.microphone import InputDevice, MicrophoneError
from intentdesk.gui.main_window import MainWindow
from tests.helpers import ScriptedMicrophone, drop, tone

RATE = 16000


def speech_like(lead=0.6, speech=0.8, tail=0.6) -> np.ndarray:
    """Silence, a 'word' (tone burst), silence: what a take sounds like."""
    rng = np.random.default_rng(0)
    wave = np.concatenate([np.zeros(int(lead * RATE)), tone(400, speech, RATE), np.zeros(int(tail * RATE))])
    return (wave + rng.normal(0, 0.002, len(wave))).astype(np.float32)


TAKE = speech_like()  # 2.0 s


@pytest.fixture
def mic():
    return ScriptedMicrophone()


@pytest.fixture
def window(qtbot, tmp_path, mic):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings, stream_factory=mic, list_devices=lambda: [InputDevice(-1, "Scripted microphone")])
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


def record_take(qtbot, tab, mic):
    """Space, the microphone hears `TAKE`, Space."""
    qtbot.keyClick(tab.recorder_panel.record_button, Qt.Key_Space)
    mic.play(TAKE)
    assert tab.recorder_panel.recorder.recorded_seconds == len(TAKE) / RATE
    qtbot.keyClick(tab.recorder_panel.record_button, Qt.Key_Space)
    assert tab.pending is not None


def test_record_label_save_with_keyboard(qtbot, window, mic):
    tab = window.label_tab
    record_take(qtbot, tab, mic)
    assert len(tab.pending) / RATE < len(TAKE) / RATE - 0.4, "leading/trailing silence should be trimmed"
    assert tab.take.take_wave.point_count() > 0
    qtbot.keyClicks(tab.take.label_combo.lineEdit(), "balance")
    qtbot.keyClick(tab.take.label_combo.lineEdit(), Qt.Key_Return)
    rows = metadata(window.store)
    assert [r["label"] for r in rows] == ["balance"]
    saved = sf.info(str(window.store.root / rows[0]["file_name"]))
    assert 0.7 < saved.duration < 1.4
    # The next take can start at once; key 1 picks the first label.
    record_take(qtbot, tab, mic)
    tab.take.label_combo.setEditText("")
    qtbot.keyClick(tab.clips.table, Qt.Key_1)
    assert tab.take.label_combo.currentText() == "balance"
    qtbot.keyClick(tab.clips.table, Qt.Key_Return)
    assert window.store.label_counts() == {"balance": 2}
    # Right after a take the label field has focus: 1 still picks the first label...
    record_take(qtbot, tab, mic)
    line = tab.take.label_combo.lineEdit()
    line.selectAll()
    qtbot.keyClick(tab.take.label_combo, Qt.Key_1)  # the combo has the focus after a take
    assert line.text() == "balance"
    # ...but once the user types, digits are part of the label.
    line.setText("")
    qtbot.keyClicks(line, "card2")
    assert line.text() == "card2"
    qtbot.keyClick(line, Qt.Key_Return)
    assert window.store.label_counts() == {"balance": 2, "card2": 1}
    assert "fewer than 5" in tab.clips.warning_label.text()


def test_relabel_delete_undo(qtbot, window, monkeypatch):
    store = window.store
    for n in range(3):
        store.add_array(tone(300 + 100 * n, 0.5, seed=n), RATE, "freeze", stem=f"c{n}")
    tab = window.label_tab
    tab.refresh()
    tab.clips.table.selectAll()
    monkeypatch.setattr(tab.clips, "ask_label", lambda *a: "balance")
    tab.clips.relabel_selected()
    assert store.label_counts() == {"balance": 3}
    assert all(r["file_name"].startswith("clips/balance/") for r in metadata(store))
    tab.clips.table.selectRow(0)
    tab.clips.table.setFocus()
    qtbot.keyClick(tab.clips.table, Qt.Key_Delete)
    assert len(metadata(store)) == 2
    qtbot.keyClick(tab.clips.table, Qt.Key_Z, Qt.ControlModifier)
    assert len(metadata(store)) == 3
    assert all((store.root / r["file_name"]).is_file() for r in metadata(store))


def test_dropped_corrupt_file_is_reported_and_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    tab = window.label_tab
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF....not really a wave file")
    before = (window.store.root / "metadata.csv").read_bytes()
    monkeypatch.setattr(tab.clips, "ask_label", lambda *a: "balance")
    drop(tab, [bad])
    qtbot.waitUntil(lambda: tab.message.is_shown(), timeout=30000)
    assert tab.message.kind == "error" and "corrupt.wav" in tab.message.text()
    assert (window.store.root / "metadata.csv").read_bytes() == before


def test_dropped_folder_takes_labels_from_subfolders(qtbot, window, tmp_path):
    src = tmp_path / "drop"
    for label in ("yes", "no"):
        (src / label).mkdir(parents=True)
        sf.write(src / label / "a.wav", tone(500, 0.5), RATE)
    (src / "no" / "broken.wav").write_bytes(b"xx")
    drop(window.label_tab, [src])
    qtbot.waitUntil(lambda: window.label_tab.message.is_shown(), timeout=30000)
    assert window.store.label_counts() == {"no": 1, "yes": 1}
    assert "broken.wav" in window.label_tab.message.text()


def test_no_microphone_is_a_message_not_a_crash(qtbot, tmp_path):
    def no_devices():
        raise MicrophoneError("the PortAudio library is missing")

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), list_devices=no_devices)
    qtbot.addWidget(win)
    assert "PortAudio" in win.label_tab.recorder_panel.mic_note.text()
    assert not win.label_tab.recorder_panel.record_button.isEnabled()
