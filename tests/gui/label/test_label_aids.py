"""Label tab aids that must never produce a wrong label, and waits that say what is happening (issue #16)."""

import threading

import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from intentdesk.core.audio.microphone import MicrophoneError
from intentdesk.core.data.store import DatasetStore, ImportReport
from intentdesk.core.errors import DatasetError
from intentdesk.gui.label.importing import report_text
from tests.helpers import RATE, drop, tone


@pytest.fixture
def tab(label_tab):
    return label_tab


def open_dataset(tab, root, labels=()):
    store = DatasetStore.create(root)
    for n, label in enumerate(labels):
        store.add_array(tone(300 + 50 * n, 0.4, seed=n), RATE, label, stem=f"{label}{n}")
    tab.set_dataset(store)
    return store


def test_keys_keep_their_label_when_a_label_is_added(qtbot, tab, tmp_path):
    store = open_dataset(tab, tmp_path / "data", ["one", "two"])
    assert tab.take.key_hint.text() == "Keys: 1=one  2=two"
    store.add_array(tone(900, 0.4), RATE, "three")  # sorts between "one" and "two"
    tab.refresh()
    assert tab.take.key_hint.text() == "Keys: 1=one  2=two  3=three"
    tab.take.pick_label(2)
    assert tab.take.label() == "two"
    assert "[2] two" in tab.clips.counts_label.text() and "[3] three" in tab.clips.counts_label.text()


def test_relabel_starts_at_the_clips_own_label_and_ctrl_z_undoes_it(qtbot, tab, tmp_path, monkeypatch):
    store = open_dataset(tab, tmp_path / "data", ["balance", "freeze"])
    offered = {}

    def get_item(_parent, _title, _text, items, current, _editable):
        offered["label"] = items[current]
        return "balance", True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    row = next(r for r in range(tab.clips.proxy.rowCount()) if tab.clips.proxy.index(r, 1).data() == "freeze")
    tab.clips.table.selectRow(row)
    tab.clips.relabel_selected()
    assert offered["label"] == "freeze"
    assert store.label_counts() == {"balance": 2}
    tab.clips.table.setFocus()
    qtbot.keyClick(tab.clips.table, Qt.Key_Z, Qt.ControlModifier)
    assert store.label_counts() == {"balance": 1, "freeze": 1}
    freeze = [c for c in store.clips if c.label == "freeze"]
    assert freeze[0].file_name.startswith("clips/freeze/") and store.path_of(freeze[0]).is_file()
    assert "old label back" in tab.message.text()


def test_a_refused_undo_is_a_message(qtbot, tab, tmp_path, monkeypatch):
    store = open_dataset(tab, tmp_path / "data", ["a", "b"])
    tab.clips.table.selectRow(0)
    tab.clips.delete_selected()

    def refuse():
        raise DatasetError("the trash batch was edited outside IntentDesk; nothing was restored")

    monkeypatch.setattr(store, "undo_delete", refuse)
    tab.clips.undo()
    assert tab.message.kind == "error" and "edited outside" in tab.message.text()


def test_without_a_dataset_the_hint_does_not_invite_a_disabled_button(qtbot, tab):
    assert not tab.recorder_panel.record_button.isEnabled()
    assert "Press Space" not in tab.recorder_panel.take_status.text()
    assert "Open or create a dataset" in tab.recorder_panel.take_status.text()


def test_after_an_import_space_records_without_a_click(qtbot, tab, tmp_path):
    open_dataset(tab, tmp_path / "data", ["a"])
    source = tmp_path / "drop" / "yes"
    source.mkdir(parents=True)
    sf.write(source / "y.wav", tone(500, 0.5), RATE)
    tab.activateWindow()
    drop(tab, [source.parent])
    qtbot.waitUntil(lambda: tab.message.is_shown(), timeout=10000)
    focus = QApplication.focusWidget()
    assert focus is tab.recorder_panel.record_button
    qtbot.keyClick(focus, Qt.Key_Space)
    qtbot.waitUntil(lambda: tab.recorder_panel.recording, timeout=3000)
    qtbot.keyClick(focus, Qt.Key_Space)


def test_import_report_names_duplicates_and_warnings(qtbot, tab, tmp_path):
    open_dataset(tab, tmp_path / "data")
    source = tmp_path / "drop" / "yes"
    source.mkdir(parents=True)
    sf.write(source / "y.wav", tone(500, 0.5), RATE)
    for _ in range(2):
        drop(tab, [source.parent])
        qtbot.waitUntil(lambda: not tab.importer.busy, timeout=10000)
    assert "1 file already in the dataset was not added again" in tab.message.text()
    text, kind = report_text(ImportReport(warnings=["hidden folder .git skipped"], duplicates=["y.wav"]))
    assert "hidden folder .git skipped" in text and kind == "warning"


def test_a_hub_import_shows_progress_and_cancel_adds_nothing(qtbot, tab, tmp_path, monkeypatch):
    import datasets

    store = open_dataset(tab, tmp_path / "data", ["a"])
    release = threading.Event()

    def slow_hub(*_args, **_kwargs):
        release.wait(10)
        raise AssertionError("a cancelled import must not use the download")

    monkeypatch.setattr(datasets, "load_dataset", slow_hub)
    buttons = tab.clips.delete_button.mapToGlobal(QPoint(0, 0))
    tab.import_source("someone/speech", "en")
    assert tab.clips.delete_button.mapToGlobal(QPoint(0, 0)) == buttons  # the strip moves nothing
    assert tab.importer.busy_row.isVisible() and tab.importer.cancel_button.isVisible()
    assert "someone/speech" in tab.importer.text.text()
    assert tab.isEnabled() and tab.clips.table.isEnabled()  # the tab stays usable meanwhile
    job = tab.importer.job
    qtbot.mouseClick(tab.importer.cancel_button, Qt.LeftButton)
    assert not tab.importer.busy_row.isVisible() and "cancelled" in tab.message.text()
    with qtbot.waitSignal(job.finished, timeout=60000):  # delivered after what the job said before it ended
        release.set()
    assert store.label_counts() == {"a": 1} and "cancelled" in tab.message.text()


def test_playing_without_a_speaker_says_so(qtbot, tab, monkeypatch):
    from intentdesk.core.audio import microphone

    def no_output(_samples, _rate):
        raise MicrophoneError("cannot play audio (Error querying device -1)")

    monkeypatch.setattr(microphone, "play", no_output)
    tab.take.set_pending(tone(400, 0.3))
    tab.take.play_take_button.click()
    assert tab.message.text().startswith("no sound output device found")
