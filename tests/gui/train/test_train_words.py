"""Train tab, words part (issue #14): the words box and its two models in the form, the three parts
compared in Results (sound only, words only, together) and the note under the curves."""

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit

from intentdesk.core.runs import RunRecord
from intentdesk.gui.train.form import SettingsForm
from intentdesk.gui.train.parts import comparison_html, parts_of
from intentdesk.gui.train.results import ResultsPanel
from intentdesk.gui.train.tab import TrainTab

LABELS = ["balance", "freeze", "pay_bill"]


def scores(accuracy: float, support=(30, 30, 30)) -> dict:
    per_class = {label: {"precision": accuracy, "recall": accuracy, "f1": accuracy, "support": n}
                 for label, n in zip(LABELS, support)}
    averages = {"micro": accuracy, "macro": accuracy, "weighted": accuracy}
    matrix = (np.diag(support) * accuracy).round().astype(int).tolist()
    return {"labels": LABELS, "count": sum(support), "accuracy": accuracy, "precision": averages,
            "recall": averages, "f1": averages, "per_class": per_class, "confusion_matrix": matrix}


def words_run() -> dict:
    sound, words, fused = scores(0.8), scores(0.7), scores(0.9)
    return {**fused, "best_epoch": 4, "mode": "quick", "sound": sound, "words": words, "fused": fused}


@pytest.fixture
def form(qtbot):
    widget = SettingsForm(["facebook/wav2vec2-base"])
    qtbot.addWidget(widget)
    return widget


def test_the_words_box_is_explained_and_its_models_follow_it(qtbot, form):
    words, asr, encoder = form.field("words"), form.field("asr"), form.field("text_encoder")
    assert isinstance(words, QCheckBox) and not words.isChecked()
    assert "learn from the words" in words.text().lower() and "speech recogniser" in words.toolTip()
    assert isinstance(asr, QLineEdit) and isinstance(encoder, QLineEdit)
    assert not asr.isEnabled() and not encoder.isEnabled(), "greyed out while words are off"
    assert asr.text() == "openai/whisper-tiny.en"
    form.advanced.setChecked(True)  # the two models are advanced settings
    assert not asr.isEnabled() and not encoder.isEnabled()
    seen = []
    form.words_changed.connect(seen.append)
    words.setChecked(True)
    assert asr.isEnabled() and encoder.isEnabled() and seen == [True]
    asr.setText("/models/my-recogniser")
    settings = form.settings()
    assert settings.words and settings.asr == "/models/my-recogniser"
    assert settings.text_encoder == encoder.text() and form.problems() == []
    assert settings.resolved().asr == "/models/my-recogniser"


def test_results_of_a_words_run_compare_the_three_parts_and_show_each(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_metrics(words_run())
    assert panel.parts.isVisible()
    table = panel.parts.comparison.text()
    for words in ("Sound only", "Words only", "Together (sound + words)", "80%", "70%", "90%"):
        assert words in table
    assert panel.parts.current() == "fused" and "Right on 90%" in panel.summary.text()
    qtbot.mouseClick(panel.parts.buttons["sound"], Qt.LeftButton)
    assert panel.parts.current() == "sound" and "Right on 80%" in panel.summary.text()
    assert "best pass 4" in panel.summary.text(), "a part keeps the run's facts"
    assert panel.confusion.matrix.sum() == 72
    qtbot.mouseClick(panel.parts.buttons["words"], Qt.LeftButton)
    assert "Right on 70%" in panel.summary.text() and panel.per_class.rowCount() == 3
    panel.show_metrics(scores(0.5))  # a sound-only run: no parts
    assert not panel.parts.isVisible() and "Right on 50%" in panel.summary.text()


def test_parts_of_a_sound_only_run_are_empty():
    assert parts_of(scores(0.5)) == {}
    assert "Words only" not in comparison_html(parts_of({**scores(0.9), "sound": scores(0.8), "fused": scores(0.9)}))


def test_the_curves_say_the_words_come_after_the_sound_model(qtbot, tmp_path):
    tab = TrainTab(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.show()
    assert not tab.curves_note.isVisible()
    tab.form.field("words").setChecked(True)
    assert tab.curves_note.isVisible() and "trained after" in tab.curves_note.text()
    tab.form.field("words").setChecked(False)
    assert not tab.curves_note.isVisible()
    record = RunRecord.from_metrics(words_run(), tmp_path / "run")
    tab.show_run(record)
    assert tab.curves_note.isVisible() and not tab.results.parts.isHidden()
    tab.show_run(RunRecord.from_metrics({**scores(0.5), "best_epoch": 1}, tmp_path / "run2"))
    assert not tab.curves_note.isVisible() and tab.results.parts.isHidden()


def test_the_words_choices_of_the_last_run_are_remembered(qtbot, tmp_path):
    settings_file = str(tmp_path / "settings.ini")
    tab = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(tab)
    assert not tab.form.uses_words()  # a first start without the default models here: off, saying why
    assert "Off for now: the speech recogniser openai/whisper-tiny.en is not on this computer" in \
        tab.form.field("words").toolTip()
    tab.form.field("words").setChecked(True)
    tab.form.field("asr").setText(str(tmp_path / "my-recogniser"))
    tab.choices.remember(tab.form.base_model())  # what starting a run does
    tab.settings.sync()
    again = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(again)
    assert again.form.uses_words()
    assert again.form.settings().asr == str(tmp_path / "my-recogniser")
    again.form.field("words").setChecked(False)
    again.choices.remember(again.form.base_model())
    again.settings.sync()
    assert not TrainTab(QSettings(settings_file, QSettings.IniFormat)).form.uses_words()


def test_the_recogniser_and_encoder_have_folder_buttons_that_follow_the_words_box(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    tab = TrainTab(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    buttons = tab.form._folder_buttons
    group = tab.form.advanced  # folded away until opened: judged up to it
    assert set(buttons) == {"asr", "text_encoder"} and not any(b.isEnabledTo(group) for b in buttons.values())
    tab.form.field("words").setChecked(True)
    assert all(b.isEnabledTo(group) for b in buttons.values())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "asr"))
    group.setChecked(True)  # the user opens Advanced settings
    buttons["asr"].click()
    assert tab.form.settings().asr == str(tmp_path / "asr")


def test_words_are_on_at_a_first_start_when_their_models_are_here(qtbot, tmp_path, tiny_recogniser,
                                                                    tiny_text_encoder):
    """Never chosen before, and the recogniser and encoder are on this computer: learning from the words is on."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("train/asr", str(tiny_recogniser))
    settings.setValue("train/text_encoder", str(tiny_text_encoder))
    tab = TrainTab(settings)
    qtbot.addWidget(tab)
    assert tab.form.uses_words()
    tab.form.advanced.setChecked(True)  # the language is an advanced setting, and follows the words box
    assert tab.form.field("language").isEnabled() and tab.form.settings().language == "en"
    tab.form.field("words").setChecked(False)
    assert not tab.form.field("language").isEnabled()
