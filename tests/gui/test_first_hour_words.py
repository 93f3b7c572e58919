"""What a newcomer reads (issue 25, items 11 and 13): the facts on the message's line, no banner left from
the dataset before, no command-line advice for a mouse user, buttons that cannot act greyed, a discoverable
transcript edit, and no deprecation warnings from the clip filter."""

import warnings
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from intentdesk.core.data.metadata_csv import Clip
from intentdesk.core.data.store import DatasetStore, ImportReport
from intentdesk.gui.classify.model_panel import describe, precision_tip
from intentdesk.gui.label.clip_table import TRANSCRIPT_COLUMN
from intentdesk.gui.label.importing import report_text
from tests.helpers import RATE, main_window_on_new_dataset, settle, tone


@pytest.fixture
def window(qtbot, tmp_path):
    yield from main_window_on_new_dataset(qtbot, tmp_path)


def test_another_dataset_takes_the_old_banners_away(window, tmp_path):
    tabs = (window.label_tab, window.train_tab, window.classify_tab)
    for tab in tabs:
        tab.message.show_message("about the first dataset", "warning")
    assert window.open_dataset(tmp_path / "second", create=True)
    assert not any(tab.message.is_shown() for tab in tabs)


def test_a_folder_that_is_not_a_dataset_is_explained_for_the_mouse(window, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    assert not window.open_dataset(folder)
    text = window.label_tab.message.text()
    assert "recordings" in text and "File > Import" in text and "File > New dataset" in text
    assert "metadata.csv" not in text and "intentdesk import" not in text
    assert not window.open_dataset(tmp_path / "gone")
    assert "is not there" in window.label_tab.message.text()


def test_what_an_import_did_is_on_the_message_line(window):
    """A 120 s import said only "Added 1 clip(s)."; the rest was behind Details…"""
    warning = "/src/long.wav: 120 s long, over the 60 s a clip can be used for training or classification"
    text, kind = report_text(ImportReport(added=[Clip("clips/greeting/long.wav", "greeting")], warnings=[warning]))
    bar = window.label_tab.message
    bar.show_message(text, kind)
    assert kind == "warning" and text.startswith("Added 1 clip: long.wav (greeting).")
    assert "120 s long" in bar.label.text()
    skipped, _ = report_text(ImportReport(skipped=["a.txt: not an audio file", "b.wav: empty"]))
    bar.show_message(skipped, "error")
    assert "Skipped 2 files that could not be read: a.txt: not an audio file" in bar.label.text()


def test_clip_buttons_wait_for_clips_and_say_how_to_correct_a_transcript(qtbot, window):
    tab = window.label_tab
    clips = tab.clips
    buttons = (clips.play_clip_button, clips.relabel_button, clips.delete_button, tab.transcriber.button)
    assert not any(button.isEnabled() for button in buttons)  # an empty dataset: nothing to act on
    tab.store.add_array(tone(700, 0.5), RATE, "balance")
    tab.refresh()
    assert tab.transcriber.button.isEnabled() and not clips.play_clip_button.isEnabled()  # none selected
    clips.table.selectRow(0)
    assert clips.play_clip_button.isEnabled() and clips.delete_button.isEnabled()
    header = clips.model.headerData(TRANSCRIPT_COLUMN, Qt.Horizontal)
    assert "double-click" in header and "F2" in clips.model.headerData(TRANSCRIPT_COLUMN, Qt.Horizontal,
                                                                       Qt.ToolTipRole)


def test_filtering_clips_gives_no_deprecation_warning(window):
    proxy = window.label_tab.clips.proxy
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        proxy.set_label("balance")
        proxy.set_label("")


def test_the_model_line_is_plain_words_and_the_terms_are_in_its_tooltip():
    classifier = SimpleNamespace(model_dir="/m/run", words_problem=None, has_words=False, info=lambda: {
        "accuracy": 220 / 221, "macro_f1": 0.99, "base_model": "facebook/wav2vec2-base", "precision": "fp32",
        "labels": ["a", "b"]})
    line = describe(classifier)
    assert "right on 99.5% of its test clips" in line and "exact arithmetic" in line
    assert "float32" not in line and "eval" not in line and "macro" not in line
    assert "float32" in precision_tip(classifier) and "macro-F1 0.990" in precision_tip(classifier)


def test_an_opened_dataset_with_clips_enables_what_acts_on_them(qtbot, window, tmp_path):
    store = DatasetStore.create(tmp_path / "full")
    store.add_array(tone(300, 0.5), RATE, "freeze")
    window.open_dataset(store.root)
    settle()
    assert window.label_tab.transcriber.button.isEnabled()
