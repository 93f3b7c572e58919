"""Classify tab, words part (issue #14): "Heard: …" under the bars, the Transcript column, the
out-of-scope verdict, and a model panel that says whether the model uses words (or why it cannot)."""

import json
import shutil

import pytest
import soundfile as sf

from intentdesk.core.inference.results import FileResult, Prediction
from intentdesk.gui.classify.ranking import OUT_OF_SCOPE_TEXT, RankingBars
from intentdesk.gui.classify.results_table import COLUMNS, TRANSCRIPT_COLUMN, UNCERTAIN_NOTE, row_values
from tests.helpers import drop, open_main_window, tone, write_two_utterances

RATE = 16000
RANKING = [Prediction("freeze", 0.7), Prediction("balance", 0.2), Prediction("pay_bill", 0.1)]


@pytest.fixture
def window(qtbot, tmp_path):
    win = open_main_window(qtbot, tmp_path / "settings.ini", write_two_utterances(tmp_path / "mic.wav"))
    win.microphone.close()
    yield win
    win.classify_tab.shutdown()
    win.label_tab.shutdown()


def load(qtbot, tab, folder):
    with qtbot.waitSignal(tab.models.loaded, timeout=60000):
        tab.open_model(folder)


def test_the_bars_say_what_was_heard_and_when_it_may_be_none_of_the_intents(qtbot):
    bars = RankingBars()
    qtbot.addWidget(bars)
    bars.show()
    bars.show_ranking(RANKING, 0.5, "a.wav", 12, transcript="block my card")
    assert bars.heard.isVisible() and bars.heard.text() == "Heard: “block my card”"
    assert bars.headline.text().startswith("freeze")
    heard_row = bars.grid.getItemPosition(bars.grid.indexOf(bars.heard))[0]
    assert heard_row > bars.grid.getItemPosition(bars.grid.indexOf(bars.rows[-1][1]))[0], "under the bars"
    bars.show_ranking(RANKING, 0.5, "b.wav", 12, transcript="what's the weather", uncertain=True)
    assert bars.headline.text().startswith(OUT_OF_SCOPE_TEXT) and "freeze" in bars.headline.text()
    assert bars.note.isVisible() and "own check" in bars.note.text() and "whatever the score" in bars.note.text()
    bars.set_threshold(0.1)
    assert bars.headline.text().startswith(OUT_OF_SCOPE_TEXT), "the threshold does not hide it"
    bars.show_ranking(RANKING, 0.5, "c.wav", 12, transcript="")
    assert "no words recognised" in bars.heard.text() and not bars.note.isVisible()
    bars.show_ranking(RANKING, 0.5, "d.wav", 12)  # a sound-only model
    assert not bars.heard.isVisible()


def test_the_table_has_a_transcript_column_and_notes_uncertain_answers(qtbot):
    from intentdesk.gui.classify.results_table import ResultsPanel

    result = FileResult("/x/a.wav", RANKING, 5.0, transcript="block my card", uncertain=True, note="first 30 s")
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.add(result)
    assert UNCERTAIN_NOTE in panel.table.item(0, 1).toolTip() and "block my card" in panel.table.item(0, 1).toolTip()
    assert "own check" in panel.table.item(0, 1).toolTip()
    cells = row_values(result)
    assert COLUMNS[TRANSCRIPT_COLUMN] == "Transcript" and cells[TRANSCRIPT_COLUMN] == "block my card"
    assert cells[1] == "uncertain (freeze?)" and cells[-1] == "first 30 s"  # short: the file and transcript keep room
    assert row_values(FileResult("/x/b.wav", RANKING, 5.0))[1] == "freeze"
    assert row_values(FileResult("/x/b.wav", RANKING, 5.0))[TRANSCRIPT_COLUMN] == ""


def test_a_words_model_shows_its_transcripts_in_bars_table_and_panel(qtbot, window, tmp_path, saved_words_classifier):
    tab = window.classify_tab
    load(qtbot, tab, saved_words_classifier)
    info = tab.models.info.text()
    assert "Uses the sound and the words" in info and "tiny-recogniser" in info
    files = []
    for n, freq in enumerate((300, 700)):
        files.append(tmp_path / f"clip{n}.wav")
        sf.write(files[-1], tone(freq, 0.6, RATE, seed=n), RATE)
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        drop(tab, files)
    table = tab.results.table
    assert not table.isColumnHidden(TRANSCRIPT_COLUMN)
    for row, result in enumerate(tab.results.results):
        assert result.transcript is not None
        assert table.item(row, TRANSCRIPT_COLUMN).text() == result.transcript
    assert not tab.bars.heard.isHidden() and tab.bars.heard.text().startswith("Heard:")
    tab.results.clear()
    assert table.isColumnHidden(TRANSCRIPT_COLUMN) and tab.bars.heard.isHidden()
    with qtbot.waitSignal(tab.recording.take_classified, timeout=60000):
        tab.recording.classify_take(tone(500, 0.8, RATE))
    assert tab.bars.heard.text().startswith("Heard:") and tab.bars.source.text().startswith("Recording")


def test_a_sound_only_model_says_so_and_shows_no_transcripts(qtbot, window, tmp_path, tone_model):
    tab = window.classify_tab
    load(qtbot, tab, tone_model)
    assert "Uses the sound only" in tab.models.info.text()
    sf.write(tmp_path / "a.wav", tone(300, 0.5, RATE), RATE)
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        drop(tab, [tmp_path / "a.wav"])
    assert tab.results.table.isColumnHidden(TRANSCRIPT_COLUMN) and tab.bars.heard.isHidden()


def test_a_words_part_that_cannot_load_is_named_and_sound_only_goes_on(qtbot, window, tmp_path,
                                                                      saved_words_classifier):
    broken = tmp_path / "moved-model"
    shutil.copytree(saved_words_classifier, broken)
    config_path = broken / "words" / "words_config.json"
    config = json.loads(config_path.read_text())
    config["recogniser"]["source"] = str(tmp_path / "no-such-recogniser")
    config_path.write_text(json.dumps(config))
    tab = window.classify_tab
    load(qtbot, tab, broken)
    info = tab.models.info.text()
    assert "words part of this model could not be loaded" in info and "no-such-recogniser" in info
    assert info.count("could not be loaded") == 1 and "sound only" in info  # said once
    assert tab.classifier.words_problem and not tab.classifier.has_words
    sf.write(tmp_path / "a.wav", tone(300, 0.5, RATE), RATE)
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        drop(tab, [tmp_path / "a.wav"])
    assert tab.results.results[0].ranking and tab.results.results[0].transcript is None
    note = tab.results.table.item(0, len(COLUMNS) - 1)  # every answer says it is by sound only, and why
    assert note.text() == "by sound only" and tab.classifier.words_problem in note.toolTip()
    assert "could not be loaded" in tab.bars.note.text() and not tab.bars.note.isHidden()  # the bars say why


def test_the_table_and_its_export_follow_the_uncertain_below_threshold(qtbot, tmp_path):
    """The table says what the bars say: a top score under the tab's threshold is uncertain too."""
    import csv

    from intentdesk.gui.classify.results_table import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.set_threshold(0.5)
    weak = [Prediction("freeze", 0.3), Prediction("balance", 0.25)]
    panel.add(FileResult("/x/weak.wav", weak, 5.0, transcript="hmm"))
    panel.add(FileResult("/x/sure.wav", RANKING, 5.0, transcript="block my card"))
    assert [panel.table.item(row, 1).text() for row in range(2)] == ["uncertain (freeze?)", "freeze"]
    rows = list(csv.DictReader(panel.export_csv(tmp_path / "out.csv").open(encoding="utf-8")))
    assert [row["uncertain"] for row in rows] == ["yes", ""]
    panel.set_threshold(0.2)
    assert panel.table.item(0, 1).text() == "freeze"


def test_a_words_only_model_says_it_uses_the_words_only():
    from types import SimpleNamespace

    from intentdesk.gui.classify.model_panel import words_line

    classifier = SimpleNamespace(words_problem=None, has_words=True)
    line = words_line(classifier, {"words_only": True, "recogniser": "r", "text_encoder": "t"})
    assert line.startswith("Uses the words only (learned from typed phrases, no recordings): r and t")
    assert words_line(classifier, {"recogniser": "r"}).startswith("Uses the sound and the words")
