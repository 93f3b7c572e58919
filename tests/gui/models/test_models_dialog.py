"""The Models place (issues 21 and 25): one dialog shows each model in use and whether it is there,
downloads with progress and Cancel, takes a folder; the choice is what Train and Transcribe use and
survives a restart; Transcribe, the words box and Start open it when a model is missing offline."""

import threading

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from intentdesk.core.data.importers import import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import ModelUnavailable
from intentdesk.core.models import catalogue
from intentdesk.core.models.catalogue import RECOGNISER, DownloadProgress
from intentdesk.core.models.hub import OFFLINE_HINT
from intentdesk.gui.models.choices import ModelChoices
from intentdesk.gui.models.dialog import PROGRESS_STEPS, ModelsDialog
from tests.helpers import RATE, open_main_window, settle, tone, write_tone_folder
from tests.models_hub import cached_model, model_folder


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def choices(settings_file):
    return ModelChoices(QSettings(settings_file, QSettings.IniFormat))


@pytest.fixture
def dialog(qtbot, choices):
    widget = ModelsDialog(choices)
    qtbot.addWidget(widget)
    widget.open_with()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def online(monkeypatch, hf_cache):
    """The app takes the computer to be online (no HF_HUB_OFFLINE); the hub itself is faked in each test."""
    monkeypatch.delenv("HF_HUB_OFFLINE")


@pytest.fixture
def window(qtbot, tmp_path, settings_file, hf_cache):
    win = open_main_window(qtbot, tmp_path / "settings.ini")
    yield win
    win.close()


def test_each_row_says_what_is_in_use_and_whether_it_is_there(qtbot, dialog, choices, tmp_path, hf_cache):
    choices.set("base_model", str(model_folder(tmp_path / "my-base", "base")))
    choices.set("asr", str(tmp_path / "moved-away"))
    cached_model(hf_cache, "org/encoder", "text_encoder")
    choices.set("text_encoder", "org/encoder")
    rows = dialog.rows
    assert rows["base_model"].status.text() == "Ready: a folder on this computer"
    assert rows["base_model"].in_use.text() == f"In use: {tmp_path / 'my-base'}"
    assert rows["asr"].status.text().startswith("Not usable:") and "folder not found" in rows["asr"].status.text()
    assert rows["text_encoder"].status.text().startswith("Downloaded")
    assert not any(row.download_button.isVisible() for row in rows.values()), "nothing to download"
    assert rows["asr"].title().startswith("Speech recogniser — writes down what is said")
    choices.set("asr", "")  # back to the default, not downloaded in this cache
    assert rows["asr"].in_use.text() == f"In use: {RECOGNISER.default} (the default)"
    assert rows["asr"].status.text().startswith("Not downloaded (about 151 MB), and this computer is set to work "
                                                "offline (HF_HUB_OFFLINE): choose a local folder")
    assert not rows["asr"].download_button.isVisible(), "no Download where it cannot work"
    assert not rows["asr"].default_button.isVisible()


def test_a_model_not_downloaded_offers_the_download(qtbot, online, dialog):
    row = dialog.rows["asr"]
    assert row.status.text() == "Not downloaded: needs the internet once (about 151 MB)"
    assert row.download_button.isVisible()


def test_a_chosen_folder_is_used_and_a_wrong_one_changes_nothing(qtbot, dialog, choices, tmp_path, monkeypatch):
    row = dialog.rows["asr"]
    wrong = model_folder(tmp_path / "an-encoder", "text_encoder")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(wrong))
    qtbot.mouseClick(row.folder_button, Qt.LeftButton)
    assert choices.source("asr") == RECOGNISER.default, "bad input changes nothing"
    assert "That folder cannot be used" in row.status.text() and "unchanged" in row.status.text()
    good = model_folder(tmp_path / "whisper", "recogniser")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(good))
    qtbot.mouseClick(row.folder_button, Qt.LeftButton)
    assert choices.source("asr") == str(good) and row.status.text() == "Ready: a folder on this computer"
    qtbot.mouseClick(row.default_button, Qt.LeftButton)
    assert choices.source("asr") == RECOGNISER.default


def test_download_shows_its_progress_and_cancel_stops_it(qtbot, online, dialog, monkeypatch):
    asked, threads = [], []

    def fake_download(repo_id, progress, cancel):
        asked.append(repo_id)
        threads.append(threading.current_thread())
        progress(DownloadProgress("model.safetensors", 40_000_000, 151_000_000, 2, 5))
        cancel.wait(60)  # until Cancel is pressed (the test fails if it never is)
        return None if cancel.is_set() else "/somewhere"

    monkeypatch.setattr(catalogue, "download", fake_download)
    row = dialog.rows["asr"]
    qtbot.mouseClick(row.download_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "40 MB of 151 MB" in row.status.text())
    assert "file 3 of 5" in row.status.text() and row.bar.isVisible() and row.cancel_button.isVisible()
    assert row.bar.value() == round(PROGRESS_STEPS * 40 / 151)
    assert not row.download_button.isEnabled() and not row.folder_button.isEnabled()
    assert asked == [RECOGNISER.default] and threads[0] is not threading.main_thread()
    qtbot.mouseClick(row.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not row.busy and not row.bar.isVisible())
    assert row.status.text().startswith("Download cancelled: nothing half-downloaded was kept")
    assert row.download_button.isEnabled() and row.download_button.isVisible()


def test_download_from_the_hub_ends_downloaded(qtbot, online, dialog, choices, fake_hub):
    fake_hub.add("org/asr", weights=30_000)
    choices.set("asr", "org/asr")
    row = dialog.rows["asr"]
    assert row.download_button.isVisible()
    dialog.show_reason("the speech recogniser org/asr is not downloaded")
    qtbot.mouseClick(row.download_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not row.busy and row.status.text().startswith("Downloaded"))
    assert not row.download_button.isVisible() and not dialog.reason.isVisible()
    assert catalogue.status_of(RECOGNISER, "org/asr").ready


def test_a_download_that_fails_says_why_in_the_row(qtbot, online, dialog, monkeypatch):
    def offline(repo_id, progress, cancel):
        raise ModelUnavailable(f"cannot download the model {repo_id}", OFFLINE_HINT)

    monkeypatch.setattr(catalogue, "download", offline)
    row = dialog.rows["text_encoder"]
    qtbot.mouseClick(row.download_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not row.busy)
    text = row.status.text()
    assert text.startswith("Not downloaded: cannot download the model") and OFFLINE_HINT in text


def test_the_menu_opens_the_dialog(qtbot, window):
    action = next(a for a in window.findChildren(QAction) if a.text() == "&Models…")
    assert any(getattr(menu, "title", lambda: "")() == "&File" for menu in action.associatedObjects())
    action.trigger()
    assert window.models_dialog.isVisible() and not window.models_dialog.reason.isVisible()


def open_dataset(window, root):
    store = DatasetStore.create(root)
    store.add_array(tone(300, 0.4), RATE, "balance")
    window.open_dataset(root)
    return store


def test_transcribe_offline_with_nothing_downloaded_opens_the_models_dialog(qtbot, window, tmp_path):
    """No 30 s of the hub's retries and a cut-off banner: the reason, where the recogniser can be had."""
    open_dataset(window, tmp_path / "data")
    strip = window.label_tab.transcriber
    qtbot.mouseClick(strip.button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.models_dialog is not None and window.models_dialog.isVisible())
    reason = window.models_dialog.reason.text()
    assert reason == f"The speech recogniser {RECOGNISER.default} is not downloaded and {OFFLINE_HINT}"
    qtbot.waitUntil(lambda: not strip.busy)
    assert "did not start" in strip.note.text() and not window.label_tab.message.is_shown()


def test_automatic_transcription_with_the_recogniser_missing_says_where_once_without_a_window(
        qtbot, window, tmp_path):
    store = open_dataset(window, tmp_path / "data")
    strip = window.label_tab.transcriber
    strip.auto.setChecked(True)
    clip = store.add_array(tone(500, 0.4), RATE, "balance")
    strip.clips_added([clip.file_name])
    qtbot.waitUntil(lambda: not strip.busy and not strip.auto.isChecked())
    assert window.models_dialog is None, "no window pops up while the person records"
    assert "File > Models…" in window.label_tab.message.text()


def test_the_choice_is_what_train_and_transcribe_use_and_survives_a_restart(qtbot, tmp_path, hf_cache, monkeypatch):
    folder = model_folder(tmp_path / "whisper", "recogniser")
    first = open_main_window(qtbot, tmp_path / "settings.ini")
    first.open_models()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    qtbot.mouseClick(first.models_dialog.rows["asr"].folder_button, Qt.LeftButton)
    assert first.train_tab.form.field("asr").text() == str(folder)
    assert first.label_tab.transcriber.recogniser == str(folder)
    first.train_tab.form.base_combo.setCurrentText("org/base")  # typed in Train: the Models place shows it
    assert first.models_dialog.rows["base_model"].in_use.text() == "In use: org/base"
    first.close()
    again = open_main_window(qtbot, tmp_path / "settings.ini")
    assert again.models.source("asr") == str(folder) and again.models.source("base_model") == "org/base"
    assert again.train_tab.form.field("asr").text() == str(folder)
    assert again.train_tab.form.base_model() == "org/base"
    assert again.label_tab.transcriber.recogniser == str(folder)
    again.close()


@pytest.fixture
def trainable(window, tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=3)))
    window.open_dataset(store.root)
    window.models.set("base_model", str(model_folder(tmp_path / "base", "base")))
    return window


def test_ticking_the_words_offline_with_their_models_missing_opens_the_dialog(qtbot, trainable):
    trainable.train_tab.form.field("words").setChecked(True)
    assert trainable.models_dialog.isVisible()
    reason = trainable.models_dialog.reason.text()
    assert "speech recogniser openai/whisper-tiny.en is not downloaded" in reason
    assert "text encoder sentence-transformers/all-MiniLM-L6-v2 is not downloaded" in reason
    warnings = trainable.train_tab.warnings.text()  # and the Train form says so too, before Start
    assert "speech recogniser openai/whisper-tiny.en is not on this computer" in warnings
    assert "text encoder sentence-transformers/all-MiniLM-L6-v2 is not on this computer" in warnings


def test_start_with_the_words_models_missing_does_not_train_and_opens_the_dialog(qtbot, trainable, tmp_path):
    tab = trainable.train_tab
    tab.form.field("words").setChecked(True)
    trainable.models_dialog.hide()
    trainable.models.set("text_encoder", str(model_folder(tmp_path / "encoder", "text_encoder")))
    assert tab.start()
    qtbot.waitUntil(lambda: not tab.is_running() and trainable.models_dialog.isVisible(), timeout=30000)
    assert trainable.models_dialog.reason.text().startswith("The speech recogniser openai/whisper-tiny.en is not")
    assert "text encoder" not in trainable.models_dialog.reason.text(), "the encoder is there: a local folder"
    assert "Cannot start: the speech recogniser" in tab.blockers.text()
    assert not list((tmp_path / "data" / "models").glob("*/config.json")), "nothing trained"


def test_a_longer_status_does_not_move_the_rows_below(qtbot, dialog):
    """A folder refused with a long reason, then a short status again: the next row's buttons stay where they
    were (they jumped by about 35 px under the cursor)."""
    rows = list(dialog.rows.values())
    first, below = rows[0], rows[1]
    where = below.folder_button.mapTo(dialog, below.folder_button.rect().topLeft()).y()
    first._say("That folder cannot be used, so the base model in use is unchanged: it needs config.json and a "
               "feature extractor, and has no audio preprocessor_config.json; choose the folder saved with "
               "save_pretrained", "#a00")
    settle()
    assert below.folder_button.mapTo(dialog, below.folder_button.rect().topLeft()).y() == where
    first._say("Ready", "#080")
    settle()
    assert below.folder_button.mapTo(dialog, below.folder_button.rect().topLeft()).y() == where
