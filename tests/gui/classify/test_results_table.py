"""Classify's clips table and bars: rows added not replaced, Clear, batches that never mix, notes, CSV names."""

import threading

import pytest
import soundfile as sf

from tests.helpers import RATE, drop, open_main_window, settle, tone


@pytest.fixture
def tab(qtbot, tmp_path, tone_model):
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.resize(1280, 800)
    window.show_tab("classify")
    tab = window.classify_tab
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        tab.open_model(tone_model)
    yield tab
    tab.shutdown()


def clips(folder, names, seconds=0.5):
    folder.mkdir(exist_ok=True)
    for n, name in enumerate(names):
        sf.write(folder / name, tone((300, 700, 1400)[n % 3], seconds, RATE, seed=n), RATE)
    return [folder / name for name in names]


def hold_files(monkeypatch, tab) -> threading.Semaphore:
    """Each file waits for a turn the test gives (`.release(n)`), so a test acts while a batch runs,
    however fast or slow the machine."""
    turns = threading.Semaphore(0)
    classify_files = tab.classifier.classify_files

    def held(paths, top_k=None):
        assert turns.acquire(timeout=120), "the test never let this file through"
        return classify_files(paths, top_k)

    monkeypatch.setattr(tab.classifier, "classify_files", held)
    return turns


def file_column(tab):
    return [tab.results.table.item(row, 0).text() for row in range(tab.results.table.rowCount())]


def test_new_files_are_added_below_and_clear_empties_the_table(qtbot, tab, tmp_path):
    first, second = clips(tmp_path / "in", ["first.wav", "second.wav"])
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        drop(tab, [first])
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files([second])
    assert file_column(tab) == ["first.wav", "second.wav"]
    assert tab.bars.source.text() == "second.wav"  # the bars say which file they show
    tab.results.table.selectRow(0)
    assert tab.bars.source.text() == "first.wav"
    tab.results.clear_button.click()
    assert tab.results.table.rowCount() == 0 and tab.results.results == []
    assert tab.bars.rows == [] and tab.bars.source.text() == "" and "Drop audio" in tab.bars.headline.text()
    assert not tab.results.export_button.isEnabled()


def test_files_dropped_while_a_batch_runs_follow_it_in_order(qtbot, tab, tmp_path, monkeypatch):
    """`batch_done` comes once, when the files dropped meanwhile are in the table too."""
    turns = hold_files(monkeypatch, tab)
    first = clips(tmp_path / "one", ["a1.wav", "a2.wav", "a3.wav"])
    second = clips(tmp_path / "two", ["b1.wav", "b2.wav"])
    turns.release()
    drop(tab, first)
    qtbot.waitUntil(lambda: tab.results.table.rowCount() == 1, timeout=30000)  # a1 shown, a2 held
    drop(tab, second)
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        turns.release(4)
    assert file_column(tab) == ["a1.wav", "a2.wav", "a3.wav", "b1.wav", "b2.wav"]


def test_clear_during_a_batch_keeps_its_late_rows_out(qtbot, tab, tmp_path, monkeypatch):
    """The file being classified when Clear is pressed finishes after it: its row must stay out. Its
    result is delivered before `batch_done` (both are queued from the batch's thread, in order)."""
    turns = hold_files(monkeypatch, tab)
    files = clips(tmp_path / "in", [f"c{n}.wav" for n in range(6)])
    turns.release()
    drop(tab, files)
    qtbot.waitUntil(lambda: tab.results.table.rowCount() == 1, timeout=30000)  # c0 shown, c1 held
    tab.results.clear_button.click()
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        turns.release(len(files))
    assert tab.results.table.rowCount() == 0 and tab.results.results == []
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files(files[:1])
    assert file_column(tab) == ["c0.wav"]


def test_a_long_clip_says_only_part_of_it_was_used(qtbot, tab, tmp_path):
    seconds = tab.classifier.clips.window + 2
    long_clip = clips(tmp_path / "in", ["long.wav"], seconds=seconds)[0]
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        tab.classify_files([long_clip])
    note_column = tab.results.table.columnCount() - 1
    assert tab.results.table.horizontalHeaderItem(note_column).text() == "Note"
    assert tab.results.table.item(0, note_column).text().startswith("only the first")
    assert "only the first" in tab.results.table.item(0, 1).toolTip()
    assert tab.bars.note.isVisibleTo(tab) and tab.bars.note.text().startswith("only the first")


def test_the_table_shows_every_column_without_scrolling(qtbot, tab, tmp_path):
    names = [f"customer_call_2026-03-14_morning_shift_{n:04d}.wav" for n in range(3)]
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files(clips(tmp_path / "in", names))
    settle()
    assert tab.results.table.horizontalScrollBar().maximum() == 0


def test_a_csv_name_typed_without_extension_gets_csv(qtbot, tab, tmp_path):
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files(clips(tmp_path / "in", ["x.wav"]))
    written = tab.results.export_csv(tmp_path / "results")
    assert written == tmp_path / "results.csv" and written.read_text().count("\n") == 2
    assert not (tmp_path / "results").exists()
