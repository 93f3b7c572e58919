"""Classify's model panel: which model is in use, what loading looks like, what is remembered (issue #16)."""

import json
import os
import shutil

import pytest
import soundfile as sf

from intentdesk.core.runs import read_run
from intentdesk.gui.classify.model_panel import default_model
from tests.helpers import RATE, open_main_window, tone


def copy_run(model, dataset_root, name, age_s=0.0, cancelled=False):
    """A copy of `model` as a run of the dataset, `age_s` seconds old (runs sort by config.json's time)."""
    run = dataset_root / "models" / name
    shutil.copytree(model, run)
    metrics = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**metrics, "cancelled": cancelled}))
    stamp = (run / "config.json").stat().st_mtime - age_s
    os.utime(run / "config.json", (stamp, stamp))
    return run.resolve()


@pytest.fixture
def loaded(qtbot, tmp_path, tone_model):
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        window.classify_tab.open_model(tone_model)
    yield window
    window.classify_tab.shutdown()


def test_without_a_model_it_says_to_train_first_and_offers_nothing_disabled(qtbot, tmp_path):
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.show_tab("classify")
    tab = window.classify_tab
    assert "Train tab" in tab.bars.headline.text() and "Drop audio" not in tab.bars.headline.text()
    assert "Train tab" in tab.models.info.text()
    for button in (tab.results.open_button, tab.recording.record_button, tab.recording.live_button,
                   tab.serve.button):
        assert not button.isEnabled()
    sf.write(tmp_path / "x.wav", tone(700, 0.5), RATE)
    tab.classify_files([tmp_path / "x.wav"])
    assert "Train tab" in tab.message.text() and tab.results.table.rowCount() == 0


def test_the_first_load_says_which_model_is_loading(qtbot, tmp_path, tone_model):
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.show_tab("classify")
    tab = window.classify_tab
    tab.open_model(tone_model)
    assert tab.bars.headline.text() == f"Loading model {tone_model.name}…"
    assert "Train tab" not in tab.models.info.text() and tab.models.busy.isVisibleTo(tab)
    qtbot.waitUntil(lambda: not tab.models.loading, timeout=30000)
    assert tab.bars.headline.text().startswith("Drop audio") and tone_model.name in tab.models.info.text()
    tab.shutdown()


def test_a_failed_load_leaves_the_model_in_use_shown_and_working(qtbot, loaded, tmp_path, tone_model):
    tab = loaded.classify_tab
    before = tab.classifier
    (tmp_path / "not-a-model").mkdir()
    tab.open_model(tmp_path / "not-a-model")
    qtbot.waitUntil(lambda: tab.message.kind == "error" and not tab.models.loading, timeout=30000)
    assert tab.classifier is before and tab.model_dir == tone_model.resolve()
    assert tone_model.name in tab.models.info.text() and "No model" not in tab.models.info.text()
    assert tab.models.combo.currentData() == str(tone_model.resolve())
    assert not tab.models.busy.isVisibleTo(tab) and tab.results.open_button.isEnabled()
    sf.write(tmp_path / "x.wav", tone(700, 0.5), RATE)
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files([tmp_path / "x.wav"])
    assert tab.results.table.rowCount() == 1


def test_loading_shows_what_is_happening_and_keeps_the_previous_model_usable(qtbot, loaded, tmp_path, tone_model):
    tab = loaded.classify_tab
    other = tmp_path / "other-model"
    shutil.copytree(tone_model, other)
    before = tab.classifier
    tab.open_model(other)
    assert tab.models.busy.isVisibleTo(tab) and "Loading model other-model" in tab.models.busy_text.text()
    assert tab.classifier is before and tab.results.open_button.isEnabled() and tab.serve.button.isEnabled()
    assert tone_model.name in tab.models.info.text()
    qtbot.waitUntil(lambda: tab.model_dir == other.resolve(), timeout=30000)
    assert "other-model" in tab.models.info.text()
    qtbot.waitUntil(lambda: not tab.models.busy.isVisibleTo(tab), timeout=5000)


def model_after_a_restart(qtbot, window, tmp_path, dataset):
    """Close `window`, open the app again on the same settings and dataset: the model Classify loads."""
    window.classify_tab.shutdown()
    window.close()
    again = open_main_window(qtbot, tmp_path / "settings.ini")
    again.open_dataset(dataset.root)
    with qtbot.waitSignal(again.classify_tab.models.loaded, timeout=30000):
        again.show_tab("classify")
    again.classify_tab.shutdown()
    return again.classify_tab.model_dir


def test_starts_with_the_model_last_chosen_not_the_newest_run(qtbot, tmp_path, tone_dataset, tone_model):
    older = copy_run(tone_model, tone_dataset.root, "2026-01-01_000000_quick_a", age_s=100)
    newer = copy_run(tone_model, tone_dataset.root, "2026-01-02_000000_quick_b")
    first = open_main_window(qtbot, tmp_path / "settings.ini")
    first.open_dataset(tone_dataset.root)
    with qtbot.waitSignal(first.classify_tab.models.loaded, timeout=30000):
        first.show_tab("classify")
    assert first.classify_tab.model_dir == newer  # nothing chosen yet: the newest run
    with qtbot.waitSignal(first.classify_tab.models.loaded, timeout=30000):
        first.classify_tab.models.combo.activated.emit(first.classify_tab.models.combo.findData(str(older)))
    assert model_after_a_restart(qtbot, first, tmp_path, tone_dataset) == older


def test_the_model_in_use_comes_back_after_a_restart_though_a_newer_run_finished(qtbot, tmp_path, tone_dataset,
                                                                                 tone_model):
    """A newcomer's walk: Classify kept its model while a new run finished, then swapped to the new run at the
    restart, without a word. The model it started with (not chosen by anyone) is the one it had."""
    first_run = copy_run(tone_model, tone_dataset.root, "2026-01-01_000000_quick_a", age_s=100)
    first = open_main_window(qtbot, tmp_path / "settings.ini")
    first.open_dataset(tone_dataset.root)
    with qtbot.waitSignal(first.classify_tab.models.loaded, timeout=30000):
        first.show_tab("classify")
    assert first.classify_tab.model_dir == first_run
    newer = copy_run(tone_model, tone_dataset.root, "2026-01-02_000000_quick_b")
    first.classify_tab.add_run(newer)
    assert first.classify_tab.model_dir == first_run  # in use while the new run is listed
    assert model_after_a_restart(qtbot, first, tmp_path, tone_dataset) == first_run


def test_the_newest_cancelled_run_is_not_the_default(tmp_path, tone_dataset, tone_model):
    from intentdesk.core.runs import list_runs

    finished = copy_run(tone_model, tone_dataset.root, "2026-01-01_000000_quick_a", age_s=100)
    copy_run(tone_model, tone_dataset.root, "2026-01-02_000000_quick_b", cancelled=True)
    assert default_model(list_runs(tone_dataset.root), None) == finished
    assert default_model(list_runs(tone_dataset.root), tmp_path / "gone") == finished


def test_a_run_finished_in_train_is_listed_and_used_at_once(qtbot, tmp_path, tone_dataset, tone_model):
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.open_dataset(tone_dataset.root)
    window.show_tab("classify")
    tab = window.classify_tab
    assert tab.models.combo.count() == 0
    run = copy_run(tone_model, tone_dataset.root, "2026-01-03_000000_quick_c")
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        window.train_tab.run_finished.emit(run)  # as the Train tab does when a run is saved
    assert tab.models.combo.itemText(0) == read_run(run).summary() and tab.model_dir == run
    tab.shutdown()


def test_a_run_cancelled_in_train_does_not_replace_a_finished_one_as_the_model_to_start_with(
        qtbot, tmp_path, tone_dataset, tone_model):
    """Quick + words finished, then a Full run was cancelled: Classify, shown after both, starts with the finished
    run (it loaded the cancelled one's sound-only model before); a cancelled run is still used when it is all
    there is."""
    finished = copy_run(tone_model, tone_dataset.root, "2026-01-01_000000_quick_a", age_s=100)
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.open_dataset(tone_dataset.root)
    tab = window.classify_tab
    cancelled = copy_run(tone_model, tone_dataset.root, "2026-01-02_000000_full_b", cancelled=True)
    window.train_tab.run_finished.emit(cancelled)
    assert tab.models.combo.itemText(0) == read_run(cancelled).summary()  # listed first all the same
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        window.show_tab("classify")
    assert tab.model_dir == finished
    tab.shutdown()
    shutil.rmtree(finished)
    alone = open_main_window(qtbot, tmp_path / "settings2.ini")
    alone.open_dataset(tone_dataset.root)
    shutil.rmtree(cancelled)
    only = copy_run(tone_model, tone_dataset.root, "2026-01-03_000000_full_c", cancelled=True)
    alone.train_tab.run_finished.emit(only)
    with qtbot.waitSignal(alone.classify_tab.models.loaded, timeout=30000):
        alone.show_tab("classify")
    assert alone.classify_tab.model_dir == only
    alone.classify_tab.shutdown()


def test_a_run_renamed_in_the_train_tab_is_renamed_in_classify_too(qtbot, tmp_path, tone_dataset, tone_model,
                                                                    monkeypatch):
    """A newcomer's walk: Classify went on listing and using the old name (a folder that no longer existed)."""
    run = copy_run(tone_model, tone_dataset.root, "2026-01-01_000000_quick_a")
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.open_dataset(tone_dataset.root)
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        window.show_tab("classify")
    assert window.classify_tab.model_dir == run
    runs = window.train_tab.runs
    monkeypatch.setattr(runs, "ask_new_name", lambda current: "my first model")
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        target = runs.rename_selected()
    models = window.classify_tab.models
    assert window.classify_tab.model_dir == target.resolve() and target.name == "my first model"
    names = [models.combo.itemText(i) for i in range(models.combo.count())]
    assert any(name.startswith("my first model") for name in names) and not any("quick_a" in n for n in names)
    window.classify_tab.shutdown()
