"""The main window: datasets (new, open, recent), the Help menu, start-up cost, and the GC guard."""

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from intentdesk.core.data.store import DatasetStore
from tests.helpers import RATE, main_window_on_new_dataset, tone


@pytest.fixture
def window(qtbot, tmp_path):
    yield from main_window_on_new_dataset(qtbot, tmp_path)


def test_new_dataset_takes_a_new_name_and_a_place(qtbot, window, tmp_path, monkeypatch):
    """Like any Save dialog: the typed name need not exist yet (it used to say "Directory not found")."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "places" / "greetings"), ""))
    window.new_dataset()
    assert (tmp_path / "places" / "greetings" / "metadata.csv").is_file()
    assert window.windowTitle() == "IntentDesk — greetings"


def test_new_dataset_refuses_a_folder_with_other_files(qtbot, window, tmp_path, monkeypatch):
    taken = tmp_path / "photos"
    taken.mkdir()
    (taken / "cat.jpg").write_bytes(b"jpeg")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(taken), ""))
    window.new_dataset()
    assert not (taken / "metadata.csv").exists()
    assert "choose a new name" in window.label_tab.message.text()
    assert window.windowTitle() == "IntentDesk — data"


def test_help_has_a_getting_started_page_with_the_keys(qtbot, window):
    titles = [action.text() for action in window.help_menu.actions()]
    assert titles == ["&Getting started", "&About IntentDesk"]
    window.getting_started()
    page = window._help.page.toPlainText()
    for step in ("Record and label", "Train", "Classify", "Space", "Enter", "Ctrl+Z", "Del"):
        assert step in page
    assert window._help.isVisible()


def test_window_title_recent_and_remembered_dataset(qtbot, window, tmp_path):
    assert window.windowTitle() == "IntentDesk — data"
    assert window.recent_datasets()[0] == str((tmp_path / "data").resolve())
    assert window.settings.value("last/dataset") == str((tmp_path / "data").resolve())
    assert [window.tabs.tabText(i) for i in range(3)] == ["Label", "Train", "Classify"]
    assert len(DatasetStore.open(tmp_path / "data")) == 0  # the dataset it made is on disk, empty


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
            "print(w.classify_tab.models.combo.count(), 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
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

    qtbot.waitUntil(collected, timeout=30000)
    assert set(freed_in) == {threading.main_thread()}


def test_opening_a_dataset_says_what_it_put_right(qtbot, window, tmp_path):
    """A clip whose row was removed by hand (its file still in clips/<label>/) is adopted on open, and said so."""
    store = DatasetStore.create(tmp_path / "other")
    store.add_array(tone(300, 0.5), RATE, "balance")
    store.add_array(tone(500, 0.5, seed=1), RATE, "freeze")
    lines = (store.root / "metadata.csv").read_text().splitlines(keepends=True)
    (store.root / "metadata.csv").write_text("".join(lines[:-1]))
    assert window.open_dataset(store.root)
    text = window.label_tab.message.text()
    assert "Opening the dataset put things right" in text and "did not list 1 audio file(s)" in text
    assert not window.label_tab.message.isHidden()
    assert window.open_dataset(store.root) and window.label_tab.message.isHidden()  # nothing more to say


def test_audio_files_are_imported_from_the_file_menu_with_one_intent(qtbot, window, tmp_path, monkeypatch):
    """A newcomer's walk: three WAVs on the desktop, and the menu offered only folders and the hub."""
    import soundfile as sf

    files = []
    for index, pitch in enumerate((300, 500)):
        files.append(str(tmp_path / f"take{index}.wav"))
        sf.write(files[-1], tone(pitch, 0.5), RATE)
    offered = {}

    def choose(_parent, _title, _folder, kinds):
        offered["kinds"] = kinds
        return files, ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", choose)
    asked = []

    def answer(_parent, title, text, items, current, _editable):
        asked.append((title, text, items[current]))
        return "balance", True

    monkeypatch.setattr(QInputDialog, "getItem", answer)
    action = next(a for a in window.findChildren(QAction) if a.text() == "Import audio &files…")
    assert action.shortcut().toString() == "Ctrl+Shift+I"
    action.trigger()
    qtbot.waitUntil(lambda: window.store.label_counts() == {"balance": 2}, timeout=30000)
    assert "*.wav" in offered["kinds"] and "*.flac" in offered["kinds"]
    assert window.tabs.currentWidget() is window.label_tab
    assert asked == [("Label for chosen audio", "Intent (label) for the 2 chosen item(s):", "")]
    action.trigger()  # again, now that the dataset has a label: the prompt still starts empty, not on it
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=30000)
    assert asked[1][2] == ""


def test_a_finished_run_shows_the_transcripts_it_wrote_in_the_label_tab(qtbot, window):
    """Training with words writes what it heard into the dataset (in its own thread, by its own store): the
    Label tab's Transcript column shows it once the run has finished, not only after the dataset is reopened."""
    window.store.add_array(tone(300, 0.5), RATE, "balance")
    name = window.store.clips[0].file_name
    DatasetStore.open(window.store.root).texts.set_transcripts({name: "what is my balance"}, "openai/whisper-tiny.en")
    table = window.label_tab.clips.model
    column = 2  # Transcript
    assert table.data(table.index(0, column)) != "what is my balance"
    window.train_tab.run_finished.emit(window.store.root / "models" / "run")
    assert table.data(table.index(0, column)) == "what is my balance"


def test_the_app_started_on_an_empty_folder_makes_a_new_dataset_there(qtbot, tmp_path, monkeypatch):
    """`intentdesk --dataset FOLDER` on a folder a newcomer made first: the app used to exit with an error."""
    from PySide6.QtCore import QSettings

    from intentdesk import cli
    from intentdesk.gui.app import build_window

    folder = tmp_path / "my intents"
    folder.mkdir()
    opened = {}
    monkeypatch.setattr("intentdesk.gui.app.run_app", lambda **kwargs: opened.update(kwargs) or 0)
    assert cli.main(["--dataset", str(folder)]) == 0 and opened["dataset"] == str(folder)
    window = build_window(str(folder), settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    assert (folder / "metadata.csv").is_file() and window.store is not None and window.store.root == folder
    window.label_tab.shutdown()
    window.classify_tab.shutdown()


def test_an_intent_typed_only_is_counted_by_the_train_tab_as_soon_as_it_is_typed(qtbot, window):
    """A newcomer's walk: the Train tab said "2 labels" until something else refreshed it."""
    for pitch, label in ((300, "balance"), (320, "balance"), (500, "freeze"), (520, "freeze")):
        window.store.add_array(tone(pitch, 0.5), RATE, label)
    window.open_dataset(window.store.root)
    phrases = window.label_tab.phrases
    phrases.label_combo.setCurrentText("abroad")
    phrases.edit.setText("I am travelling abroad next week")
    phrases.add_typed()
    assert "1 typed only (abroad" in window.train_tab.form.dataset_label.text()
