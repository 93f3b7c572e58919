"""Label tab traps a newcomer walked into (issue #25): nothing may mislabel a clip or lose one, and
nothing may start work nobody asked for."""

import json

import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from intentdesk.core.data.store import DatasetStore
from tests.helpers import RATE, drop, tone


@pytest.fixture
def tab(label_tab):
    return label_tab


def save_take(tab, label: str, seed: int = 0) -> None:
    tab.take.set_pending(tone(400 + 30 * seed, 0.5, seed=seed))
    tab.take.label_combo.setEditText(label)
    tab.save_take()


# ---------------------------------------------------------------- 1: key numbers survive a restart
def test_label_keys_keep_their_numbers_after_the_dataset_is_opened_again(qtbot, tab, tmp_path):
    tab.set_dataset(DatasetStore.create(tmp_path / "data"))
    for n, label in enumerate(["balance", "freeze", "abroad"]):  # numbered as they come, not by name
        save_take(tab, label, seed=n)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))  # what a restart does
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"
    assert tab.take.pick_label(1) and tab.take.label() == "balance"
    assert json.loads((tmp_path / "data" / "label_keys.json").read_text())["numbers"] == {
        "balance": 1, "freeze": 2, "abroad": 3}


def test_a_label_whose_clips_were_all_deleted_frees_its_number_at_the_next_opening(qtbot, tab, tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    for n, label in enumerate(["balance", "freze", "abroad"]):
        save_take(tab, label, seed=n)
    store.delete([c.file_name for c in store.clips if c.label == "freze"])
    tab.refresh()
    assert tab.keys.number_of("freze") == 2, "kept while the dataset is open: Ctrl+Z may bring the clip back"
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))
    assert tab.take.key_hint.text() == "Keys: 1=balance  3=abroad", "the others keep their numbers"
    save_take(tab, "freeze", seed=5)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad", "a new label takes the free number"


def test_a_dataset_from_before_numbers_were_kept_is_numbered_by_name_once(qtbot, tab, tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    for n, label in enumerate(["freeze", "balance"]):
        store.add_array(tone(300 + 50 * n, 0.4, seed=n), RATE, label)
    tab.set_dataset(store)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze"
    save_take(tab, "abroad")
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"


# ---------------------------------------------------------------- 2: a typo never makes a second intent
def never_asked(typed, existing):
    raise AssertionError(f"asked about {typed!r} / {existing!r}: the label was obviously the same")


def test_a_label_typed_with_spaces_or_capitals_is_the_existing_label(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    save_take(tab, "balance")
    save_take(tab, "pay bill", seed=1)
    monkeypatch.setattr(tab.label_names, "ask_similar", never_asked)
    save_take(tab, "Balance ", seed=2)
    save_take(tab, "  Pay   Bill", seed=3)
    assert store.label_counts() == {"balance": 2, "pay bill": 2}
    assert sorted(p.name for p in (store.root / "clips").iterdir()) == ["balance", "pay bill"]
    assert tab.take.label_combo.currentText() == "pay bill"


def test_a_near_duplicate_label_asks_did_you_mean(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    save_take(tab, "balance")
    asked = []

    def answer(choice):
        def ask(typed, existing):
            asked.append((typed, existing))
            return {"existing": existing, "typed": typed, "cancel": None}[choice]
        return ask

    monkeypatch.setattr(tab.label_names, "ask_similar", answer("existing"))
    save_take(tab, "balances", seed=1)
    assert asked == [("balances", "balance")] and store.label_counts() == {"balance": 2}
    monkeypatch.setattr(tab.label_names, "ask_similar", answer("cancel"))
    save_take(tab, "balnce", seed=2)
    assert asked[-1] == ("balnce", "balance") and store.label_counts() == {"balance": 2}
    assert tab.pending is not None, "Cancel goes back to the label: the take is still there"
    monkeypatch.setattr(tab.label_names, "ask_similar", answer("typed"))
    save_take(tab, "balances", seed=3)
    assert store.label_counts() == {"balance": 2, "balances": 1}, "created when the person says so"


def test_relabelling_to_a_differently_written_label_uses_the_existing_one(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    save_take(tab, "balance")
    save_take(tab, "freeze", seed=1)
    monkeypatch.setattr(tab.label_names, "ask_similar", never_asked)
    monkeypatch.setattr(tab.clips, "ask_label", lambda *_args: "FREEZE ")
    row = next(r for r in range(tab.clips.proxy.rowCount()) if tab.clips.proxy.index(r, 1).data() == "balance")
    tab.clips.table.selectRow(row)
    tab.clips.relabel_selected()
    assert store.label_counts() == {"freeze": 2}


def test_the_did_you_mean_question_offers_both_labels_as_plain_text(qtbot, tab):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen = {}

    def click(text):
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, lambda: click(text))
            return
        seen["text"], seen["format"] = box.text(), box.textFormat()
        seen["buttons"] = [button.text() for button in box.buttons()]
        next(button for button in box.buttons() if button.text() == text).click()

    QTimer.singleShot(0, lambda: click("Create '<b>balances</b>'"))
    assert tab.label_names.ask_similar("<b>balances</b>", "balance") == "<b>balances</b>"
    assert seen["text"].startswith("Did you mean 'balance'?") and seen["format"] == Qt.PlainText
    assert {"Use 'balance'", "Create '<b>balances</b>'"} <= set(seen["buttons"])
    QTimer.singleShot(0, lambda: click("Use 'balance'"))
    assert tab.label_names.ask_similar("balances", "balance") == "balance"


# ---------------------------------------------------------------- 3: a folder named after a label keeps it
def wav_folder(folder, count=2, freq=500):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        sf.write(folder / f"clip{n}.wav", tone(freq + 40 * n, 0.5, seed=n), RATE)
    return folder


def drop_and_wait(qtbot, tab, paths):
    drop(tab, paths)
    qtbot.waitUntil(lambda: not tab.importer.busy and tab.message.is_shown(), timeout=20000)


def never_asked_for_a_label(*_args):
    raise AssertionError("asked for a label: the folder names it")


def test_a_dropped_folder_named_after_a_label_imports_with_that_label(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    save_take(tab, "balance")
    monkeypatch.setattr(tab.clips, "ask_label", never_asked_for_a_label)
    drop_and_wait(qtbot, tab, [wav_folder(tmp_path / "oneclass" / "balance")])
    assert store.label_counts() == {"balance": 3}, tab.message.text()
    drop_and_wait(qtbot, tab, [wav_folder(tmp_path / "other" / "Freeze ", freq=900)])  # a new label
    assert store.label_counts() == {"balance": 3, "Freeze": 2}
    drop_and_wait(qtbot, tab, [wav_folder(tmp_path / "again" / "BALANCE", freq=1300)])  # the same label
    assert store.label_counts() == {"balance": 5, "Freeze": 2}


def test_a_dropped_folder_of_label_folders_imports_each_with_its_label(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    save_take(tab, "balance")
    monkeypatch.setattr(tab.clips, "ask_label", never_asked_for_a_label)
    source = tmp_path / "recordings"
    wav_folder(source / "Balance")
    wav_folder(source / "freeze", freq=900)
    sf.write(source / "stray.wav", tone(700, 0.5), RATE)
    drop_and_wait(qtbot, tab, [source])
    assert store.label_counts() == {"balance": 3, "freeze": 2}
    assert "stray.wav" in tab.message.text() and "not imported" in tab.message.text(), "said, not lost silently"


def test_a_dropped_folder_whose_name_cannot_be_a_label_asks_for_one(qtbot, tab, tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    asked = []
    monkeypatch.setattr(tab.clips, "ask_label", lambda *args: asked.append(args) or "balance")
    drop_and_wait(qtbot, tab, [wav_folder(tmp_path / "(my) takes!")])
    assert asked and store.label_counts() == {"balance": 2}


# ---------------------------------------------------------------- 7: no work nobody asked for
def test_an_import_that_added_nothing_starts_no_transcription(qtbot, tab, tmp_path, monkeypatch):
    from intentdesk.gui.label import transcribing

    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    runs = []
    monkeypatch.setattr(transcribing, "run_transcription",
                        lambda store_, recogniser, emit, cancel, clips=None: runs.append(clips) or 0)
    source = wav_folder(tmp_path / "src" / "balance")
    drop_and_wait(qtbot, tab, [source])
    assert store.label_counts() == {"balance": 2} and runs == [], "automatic transcription is off: nothing ran"
    tab.transcriber.auto.setChecked(True)
    drop_and_wait(qtbot, tab, [source])  # the same files again: 0 added
    assert "already in the dataset" in tab.message.text()
    assert runs == [] and not tab.transcriber.busy, "0 clips added: nothing to transcribe"
    drop_and_wait(qtbot, tab, [wav_folder(tmp_path / "more" / "freeze", count=1, freq=1500)])
    qtbot.waitUntil(lambda: runs and not tab.transcriber.busy)
    added = [clip.file_name for clip in store.clips if clip.label == "freeze"]
    assert runs == [added], "only the clip just added, never the whole dataset"
