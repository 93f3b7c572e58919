"""Label tab, words part (issue #14): the transcript column and its corrections, Transcribe clips
(progress, cancel, automatic runs, one message when the recogniser cannot load) and typed phrases."""

import csv
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from intentdesk.core.audio.microphone import InputDevice
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import ModelError
from intentdesk.gui.label import transcribing
from intentdesk.gui.label.clip_table import CORRECTED_MARK, TRANSCRIPT_COLUMN
from tests.helpers import RATE, tone


@pytest.fixture
def tab(label_tab):
    return label_tab


def open_dataset(tab, root, labels=("balance", "freeze")):
    store = DatasetStore.create(root)
    for n, label in enumerate(labels):
        store.add_array(tone(300 + 50 * n, 0.4, seed=n), RATE, label, stem=f"{label}{n}")
    tab.set_dataset(store)
    return store


def rows(store):
    with open(store.root / "metadata.csv", newline="") as handle:
        return {row["file_name"]: row for row in csv.DictReader(handle)}


def transcript_index(tab, label):
    proxy = tab.clips.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 1).data() == label)
    return proxy.index(row, TRANSCRIPT_COLUMN)


def test_a_typed_transcript_is_saved_as_the_users_and_marked(qtbot, tab, tmp_path):
    store = open_dataset(tab, tmp_path / "data")
    name = store.clips[0].file_name
    store.texts.set_transcripts({name: "how much is left"}, by="openai/whisper-tiny.en")
    tab.refresh()
    index = transcript_index(tab, store.find(name).label)
    assert index.data() == "how much is left" and "recogniser" in index.data(Qt.ToolTipRole)
    table = tab.clips.table
    table.scrollTo(index)
    where = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=where)  # a real double-click starts with a press
    qtbot.mouseDClick(table.viewport(), Qt.LeftButton, pos=where)
    editor = table.focusWidget()
    assert isinstance(editor, QLineEdit), "double-click on a transcript opens it for editing"
    editor.selectAll()
    qtbot.keyClicks(editor, "how much money is left")
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: rows(store)[name]["transcript_by"] == "user")
    assert rows(store)[name]["transcript"] == "how much money is left"
    index = transcript_index(tab, store.find(name).label)
    assert index.data() == CORRECTED_MARK + "how much money is left"
    assert index.data(Qt.FontRole).italic() and "never overwrites" in index.data(Qt.ToolTipRole)
    store.texts.set_transcripts({name: "something else"}, by="openai/whisper-tiny.en")
    assert rows(store)[name]["transcript"] == "how much money is left", "a correction is never overwritten"


def test_transcribe_clips_shows_progress_and_can_be_cancelled(qtbot, tab, tmp_path, monkeypatch):
    open_dataset(tab, tmp_path / "data")
    release, seen = threading.Event(), {}

    def slow(store, recogniser, emit, cancel, clips=None):
        seen["recogniser"] = recogniser
        emit((1, 4))
        while not cancel.is_set():
            release.wait(0.01)
        return 1

    monkeypatch.setattr(transcribing, "run_transcription", slow)
    strip = tab.transcriber
    strip.set_recogniser("/models/my-asr")
    qtbot.mouseClick(strip.button, Qt.LeftButton)
    qtbot.waitUntil(lambda: strip.bar.maximum() == 4 and strip.bar.value() == 1)
    assert strip.cancel_button.isVisible() and not strip.button.isEnabled()
    assert seen["recogniser"] == "/models/my-asr"
    qtbot.mouseClick(strip.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not strip.busy)
    assert strip.button.isEnabled() and not strip.cancel_button.isVisible()


def test_new_clips_are_transcribed_automatically_and_an_offline_recogniser_says_so_once(qtbot, tab, tmp_path,
                                                                                         monkeypatch):
    open_dataset(tab, tmp_path / "data")
    calls = []

    def offline(store, recogniser, emit, cancel, clips=None):
        calls.append(recogniser)
        raise ModelError(f"the speech recogniser {recogniser!r} could not be downloaded (no internet?)")

    monkeypatch.setattr(transcribing, "run_transcription", offline)
    tab.transcriber.auto.setChecked(True)
    tab.take.set_pending(tone(500, 0.5))
    tab.take.label_combo.setCurrentText("balance")
    tab.save_take()
    qtbot.waitUntil(lambda: not tab.transcriber.busy and bool(calls))
    text = tab.message.text()
    assert "openai/whisper-tiny.en" in text and "Automatic transcription is now off" in text
    assert not tab.transcriber.auto.isChecked()
    tab.take.set_pending(tone(600, 0.5))
    tab.save_take()  # no second attempt (a run would start right here, in save_take), no second message
    assert not tab.transcriber.busy and len(calls) == 1


def test_automatic_transcription_fills_the_transcript_column(qtbot, tab, tmp_path, monkeypatch):
    store = open_dataset(tab, tmp_path / "data", ["balance"])
    written = {}

    def fake(store_, recogniser, emit, cancel, clips=None):
        store_.texts.set_transcripts({name: "heard words" for name in clips}, recogniser)
        written.update(dict.fromkeys(clips, True))
        emit((len(written), len(written)))
        return len(written)

    monkeypatch.setattr(transcribing, "run_transcription", fake)
    tab.transcriber.auto.setChecked(True)
    tab.take.set_pending(tone(500, 0.5))
    tab.take.label_combo.setCurrentText("balance")
    tab.save_take()
    qtbot.waitUntil(lambda: len(written) == 1 and not tab.transcriber.busy)
    assert "1 clip(s) transcribed" in tab.transcriber.note.text()
    new = [clip for clip in store.clips if clip.transcript]
    assert len(store.clips) == 2 and len(new) == 1 and new[0].file_name.startswith("clips/balance/take-"), \
        "only the clip just added: the one already there is left to the Transcribe clips button"


def test_transcribe_clips_with_a_local_recogniser(qtbot, tab, tmp_path, tiny_recogniser):
    store = open_dataset(tab, tmp_path / "data")
    tab.transcriber.set_recogniser(str(tiny_recogniser))
    assert tab.transcriber.start()
    qtbot.waitUntil(lambda: not tab.transcriber.busy, timeout=60000)
    assert "transcribed" in tab.transcriber.note.text(), tab.message.text()
    assert all(row["transcript_by"] not in ("", "user") for row in rows(store).values())


def test_example_phrases_are_added_with_enter_and_removed(qtbot, tab, tmp_path):
    store = open_dataset(tab, tmp_path / "data")
    panel = tab.phrases
    panel.label_combo.setCurrentText("freeze")
    panel.edit.setFocus()
    qtbot.keyClicks(panel.edit, "block my card")
    qtbot.keyClick(panel.edit, Qt.Key_Return)
    qtbot.keyClicks(panel.edit, "stop my card please")
    qtbot.keyClick(panel.edit, Qt.Key_Enter)
    assert store.texts.phrases() == [("freeze", "block my card"), ("freeze", "stop my card please")]
    assert panel.edit.text() == "" and panel.list.count() == 2
    assert (store.root / "phrases.csv").is_file()
    panel.label_combo.setCurrentText("balance")
    assert panel.list.count() == 0
    panel.label_combo.setCurrentText("freeze")
    assert not panel.remove_button.isEnabled() and "Select phrases" in panel.remove_button.toolTip()
    panel.list.item(0).setSelected(True)
    assert panel.remove_button.isEnabled()
    qtbot.mouseClick(panel.remove_button, Qt.LeftButton)
    assert store.texts.phrases() == [("freeze", "stop my card please")]
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == ["stop my card please"]


def test_phrases_for_a_label_without_clips_are_mentioned_not_hidden(qtbot, tab, tmp_path):
    store = open_dataset(tab, tmp_path / "data")
    store.texts.add_phrases("refund", ["I want my money back", "give me a refund"])  # typed before any refund clip
    tab.phrases.set_dataset(store)
    tab.phrases.label_combo.setCurrentText("freeze")
    text = tab.phrases.count.text()
    assert text.splitlines() == ["0 phrases typed for “freeze”", "Intents typed only, with no recordings yet: refund "
                                 "(learned from the words alone when training with words)"]
    combo = tab.phrases.label_combo
    assert "refund" in [combo.itemText(i) for i in range(combo.count())]  # listed, to add to or remove from


def test_a_refresh_reads_phrases_csv_once(qtbot, tab, tmp_path, monkeypatch):
    """Its choices and its list come from one read (a GUI-thread read of the file, twice, before)."""
    store = open_dataset(tab, tmp_path / "data")
    store.texts.add_phrases("refund", ["give me a refund"])
    reads = []
    original = store.texts.phrases
    monkeypatch.setattr(store.texts, "phrases", lambda: reads.append(1) or original())
    tab.phrases.set_labels(store.labels())
    assert len(reads) == 1
    assert "refund" in [tab.phrases.label_combo.itemText(i) for i in range(tab.phrases.label_combo.count())]
    tab.phrases.label_combo.setCurrentText("refund")  # choosing a label lists its phrases (read again)
    assert tab.phrases.list.count() == 1 and len(reads) == 2


def test_a_new_intent_can_start_with_typed_phrases(qtbot, tab, tmp_path):
    """Type how people say it: a new intent's name in the box, then its phrases, no recording needed; a name
    that cannot be a label is refused and nothing is written."""
    store = open_dataset(tab, tmp_path / "data")
    panel = tab.phrases
    panel.edit.setFocus()
    for intent, text in (("lost_card", "I lost my card"), ("=HYPERLINK(1)", "hello")):
        panel.label_combo.setEditText(intent)
        qtbot.keyClicks(panel.edit, text)
        qtbot.keyClick(panel.edit, Qt.Key_Return)
    assert store.texts.phrases() == [("lost_card", "I lost my card")]
    panel.label_combo.setCurrentText("lost_card")
    assert panel.list.count() == 1
    assert "lost_card" in [panel.label_combo.itemText(i) for i in range(panel.label_combo.count())]


def test_typing_a_phrase_never_records_or_saves_a_take(qtbot, tab, tmp_path):
    open_dataset(tab, tmp_path / "data")
    tab.take.set_pending(tone(500, 0.5))
    tab.phrases.edit.setFocus()
    qtbot.keyClicks(tab.phrases.edit, "what is 1 left")
    qtbot.keyClick(tab.phrases.edit, Qt.Key_Return)
    assert tab.pending is not None, "Enter in the phrase field does not save the take"
    assert not tab.recorder_panel.recording and not tab.recorder_panel._countdown_left, "Space typed a space"
    assert tab.take.label() == "", "the digit typed was text, not a label key"


def test_ticking_words_in_train_leaves_automatic_transcripts_alone_and_shares_the_recogniser(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from intentdesk.gui.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat),
                        list_devices=lambda: [InputDevice(-1, "Replay")])
    qtbot.addWidget(window)
    transcriber = window.label_tab.transcriber
    assert not transcriber.auto.isChecked() and transcriber.recogniser == "openai/whisper-tiny.en"
    window.train_tab.form.field("words").setChecked(True)
    window.train_tab.form.field("asr").setText("/models/local-asr")
    assert not transcriber.auto.isChecked(), "the Label tab's setting changes only when the person changes it"
    assert transcriber.recogniser == "/models/local-asr"
    window.label_tab.shutdown()
    window.classify_tab.shutdown()


def test_automatic_transcripts_are_remembered_across_restarts(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from intentdesk.gui.main_window import MainWindow

    def open_window() -> MainWindow:
        window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat),
                            list_devices=lambda: [InputDevice(-1, "Replay")])
        qtbot.addWidget(window)
        return window

    first = open_window()
    first.label_tab.transcriber.auto.setChecked(True)
    first.settings.sync()
    first.label_tab.shutdown()
    first.classify_tab.shutdown()
    again = open_window()
    assert again.label_tab.transcriber.auto.isChecked()
    again.label_tab.transcriber.auto.setChecked(False)  # unticked on purpose: stays off
    again.settings.sync()
    again.label_tab.shutdown()
    again.classify_tab.shutdown()
    third = open_window()
    assert not third.label_tab.transcriber.auto.isChecked()
    third.label_tab.shutdown()
    third.classify_tab.shutdown()


def test_a_typed_intent_name_is_settled_as_a_clips_label_is(qtbot, tab, tmp_path, monkeypatch):
    """"Balance " is "balance" (no second intent, and its phrase is listed), "Balances" asks "Did you mean
    'balance'?" first (Cancel writes nothing), as the take's label does."""
    store = open_dataset(tab, tmp_path / "data")
    panel = tab.phrases
    asked = []
    monkeypatch.setattr(panel.label_names, "ask_similar", lambda typed, existing: asked.append(typed) or None)
    panel.edit.setFocus()
    for intent, text in (("Balance ", "how much have I got"), ("Balances", "what is my balance")):
        panel.label_combo.setEditText(intent)
        qtbot.keyClicks(panel.edit, text)
        qtbot.keyClick(panel.edit, Qt.Key_Return)
    assert store.texts.phrases() == [("balance", "how much have I got")]
    assert asked == ["Balances"] and panel.edit.text() == "what is my balance"  # kept, to add once settled
    assert panel.label_combo.lineEdit().hasFocus() or panel.label_combo.hasFocus()  # back to the name
    monkeypatch.setattr(panel.label_names, "ask_similar", lambda typed, existing: existing)
    panel.edit.setFocus()
    qtbot.keyClick(panel.edit, Qt.Key_Return)
    assert store.texts.phrases() == [("balance", "how much have I got"), ("balance", "what is my balance")]
    assert panel.label() == "balance" and panel.list.count() == 2
    assert [panel.label_combo.itemText(i) for i in range(panel.label_combo.count())] == ["balance", "freeze"]


def test_the_store_never_makes_a_second_intent_of_one_that_differs_in_case_or_spaces(tmp_path):
    store = open_dataset_store(tmp_path / "data")
    store.texts.add_phrases("refund", ["give me my money back"])
    store.texts.add_phrases(" Refund", ["I want a refund"])
    store.texts.add_phrases("FREEZE", ["block my card"])
    assert store.texts.phrases() == [("refund", "give me my money back"), ("refund", "I want a refund"),
                                     ("freeze", "block my card")]


def open_dataset_store(root):
    store = DatasetStore.create(root)
    store.add_array(tone(300, 0.4), RATE, "freeze", stem="freeze0")
    return store
