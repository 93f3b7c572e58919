"""Classify, as a newcomer meets it (issue 25, items 8, 11 and 12): every wait says what is happening and
how far along, the facts are on the message's line, nothing moves when a state changes, and a new model
never sits above the old model's answers."""

import shutil
import threading

import pytest
import soundfile as sf
from PySide6.QtCore import QPoint

from intentdesk.core.inference.results import FileResult, Prediction
from intentdesk.gui.classify.record_panel import CLASSIFYING_TEXT
from tests.helpers import RATE, open_main_window, settle, tone, write_two_utterances

LONG = "pay_the_electricity_bill"


@pytest.fixture
def window(qtbot, tmp_path, tone_model):
    window = open_main_window(qtbot, tmp_path / "settings.ini", write_two_utterances(tmp_path / "mic.wav"))
    window.resize(1200, 780)  # the size the app opens with
    window.show_tab("classify")
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        window.classify_tab.open_model(tone_model)
    settle()
    yield window
    window.classify_tab.shutdown()
    window.microphone.close()


def held(monkeypatch, target, name: str) -> threading.Semaphore:
    """`target.name` waits for a turn the test gives (`.release()`), so the test looks at the wait itself."""
    turns = threading.Semaphore(0)
    original = getattr(target, name)

    def waiting(*args, **kwargs):
        assert turns.acquire(timeout=120), "the test never let it through"
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, waiting)
    return turns


def where(widget) -> tuple[int, int, int]:
    corner = widget.mapTo(widget.window(), QPoint(0, 0))
    return corner.x(), corner.y(), widget.width()


def clips(folder, count):
    folder.mkdir(exist_ok=True)
    for n in range(count):
        sf.write(folder / f"c{n}.wav", tone((300, 700, 1400)[n % 3], 0.5, RATE, seed=n), RATE)
    return [folder / f"c{n}.wav" for n in range(count)]


def test_a_recording_being_classified_says_so_and_record_waits_for_it(qtbot, window, monkeypatch):
    panel = window.classify_tab.recording
    turn = held(monkeypatch, window.classify_tab.classifier, "classify_recording")
    done = []
    panel.take_classified.connect(done.append)
    panel.classify_take(tone(700, 0.8, RATE))
    assert panel.busy.isVisibleTo(panel) and panel.busy.text.text() == CLASSIFYING_TEXT
    assert panel.busy.bar.maximum() == 0  # a moving bar: no count to show
    assert not panel.record_button.isEnabled()  # pressing Record again was the newcomer's guess
    turn.release()
    qtbot.waitUntil(lambda: bool(done) and not panel.busy.isVisibleTo(panel), timeout=60000)
    assert panel.record_button.isEnabled()


def test_record_keeps_its_place_when_it_becomes_stop_and_classify(qtbot, window):
    panel = window.classify_tab.recording
    before = where(panel.record_button), where(panel.live_button)
    panel.toggle_record()
    settle()
    assert panel.record_button.text().endswith("Stop and classify")
    assert (where(panel.record_button), where(panel.live_button)) == before  # its left edge jumped 55 px
    panel.toggle_record()
    settle()
    assert (where(panel.record_button), where(panel.live_button)) == before


def test_a_batch_says_which_file_of_how_many(qtbot, window, monkeypatch, tmp_path):
    tab = window.classify_tab
    turns = held(monkeypatch, tab.classifier, "classify_files")
    busy = tab.results.busy
    tab.classify_files(clips(tmp_path / "one", 3))
    assert busy.isVisibleTo(tab) and busy.text.text() == "Classifying 1 of 3 files…"
    assert (busy.bar.value(), busy.bar.maximum()) == (0, 3)
    turns.release()
    qtbot.waitUntil(lambda: tab.results.table.rowCount() == 1, timeout=60000)
    assert busy.text.text() == "Classifying 2 of 3 files…" and busy.bar.value() == 1
    tab.classify_files(clips(tmp_path / "two", 2))  # dropped while the batch runs: counted in
    assert busy.text.text() == "Classifying 2 of 5 files…" and busy.bar.maximum() == 5
    with qtbot.waitSignal(tab.batch_done, timeout=120000):
        turns.release(4)
    assert not busy.isVisibleTo(tab) and tab.results.table.rowCount() == 5


def test_files_that_could_not_be_read_are_named_on_the_message_line(qtbot, window, tmp_path):
    tab = window.classify_tab
    (tmp_path / "notes.wav").write_text("hello")
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        tab.classify_files([tmp_path / "notes.wav"])
    line = tab.message.label.text()
    assert line.startswith("1 file could not be read and was skipped: notes.wav: not an audio file")
    assert str(tmp_path) not in line  # the name, not the whole path, on the line; Details… has all


def test_a_new_model_does_not_sit_above_the_old_models_answers(qtbot, window, tone_model, tmp_path):
    tab = window.classify_tab
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        tab.classify_files(clips(tmp_path / "in", 2))
    assert tab.results.table.rowCount() == 2 and tab.bars.ranking
    other = tmp_path / "other-model"
    shutil.copytree(tone_model, other)
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        tab.open_model(other)
    assert tab.results.table.rowCount() == 0 and not tab.bars.ranking
    assert "other-model" in tab.message.text() and "cleared" in tab.message.text()


def test_loading_another_model_moves_nothing_below_it(qtbot, window, tone_model, tmp_path, monkeypatch):
    from intentdesk.gui.classify import model_panel

    tab = window.classify_tab
    before = where(tab.threshold), where(tab.results)
    turn = held(monkeypatch, model_panel, "load_classifier")
    other = tmp_path / "other-model"
    shutil.copytree(tone_model, other)
    tab.open_model(other)
    settle()
    assert tab.models.busy.isVisibleTo(tab)
    assert (where(tab.threshold), where(tab.results)) == before  # the loading row pushed them down 28 px
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        turn.release()
    settle()
    assert (where(tab.threshold), where(tab.results)) == before


def test_many_labels_scroll_in_the_bars_and_a_long_verdict_is_not_cut(qtbot, window):
    tab = window.classify_tab
    height = window.height()
    ranking = [Prediction(LONG, 0.31)] + [Prediction(f"intent_number_{n}", 0.69 / 19) for n in range(19)]
    sure = [Prediction("intent_number_0", 0.9), Prediction(LONG, 0.01)] + ranking[2:]  # the same labels
    tab.bars.show_ranking(sure, 0.5, "short.wav")
    settle()
    first_bar = where(tab.bars.rows[0][1])
    tab.bars.show_ranking(ranking, 0.5, "long.wav", 12.0)
    settle()
    assert window.height() == height  # the window grew 160 px as results came in
    headline = tab.bars.headline
    assert headline.text().startswith(f"Uncertain (best guess {LONG}")
    assert headline.height() >= headline.heightForWidth(headline.width())  # two lines in a one-line space
    assert where(tab.bars.rows[0][1]) == first_bar  # a longer verdict moves no bar


def test_an_uncertain_row_with_a_note_leaves_the_transcript_its_room(qtbot, window):
    table = window.classify_tab.results.table
    results = window.classify_tab.results
    results.set_labels(["freeze", LONG])
    ranking = [Prediction(LONG, 0.31), Prediction("freeze", 0.29)]
    results.add(FileResult("/x/a.wav", ranking, 12.0, transcript="please pay my electricity bill", uncertain=False))
    settle()
    from intentdesk.gui.classify.results_table import TRANSCRIPT_COLUMN

    before = table.columnViewportPosition(TRANSCRIPT_COLUMN), table.columnWidth(TRANSCRIPT_COLUMN)
    results.add(FileResult("/x/b.wav", ranking, 12.0, note="only the first 60.0 s of 120.0 s were used",
                           transcript="hello there", uncertain=True))
    settle()
    assert (table.columnViewportPosition(TRANSCRIPT_COLUMN), table.columnWidth(TRANSCRIPT_COLUMN)) == before
    assert sum(before) <= table.viewport().width()  # in view at the usual window size
    assert before[1] >= table.fontMetrics().horizontalAdvance("please pay my electricity")
