"""The Runs panel and a run's end, without torch: a finished run is announced, runs can be renamed and deleted."""

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from intentdesk.core.events import Outcome, Stage, StageEvent, StepEvent, TrainFinished
from intentdesk.core.runs import RunRecord, list_runs
from intentdesk.gui.train import tab as tab_module
from intentdesk.gui.train.runs import RunsPanel
from intentdesk.gui.train.tab import TrainTab


def fake_run(folder: Path, accuracy: float = 0.9) -> RunRecord:
    """A folder that passes for a model IntentDesk trained (what rename and delete accept)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"intentdesk": {"mode": "quick"}}))
    (folder / "training_settings.json").write_text("{}")
    (folder / "weights.bin").write_bytes(b"0" * 2_000_000)
    record = RunRecord(mode="quick", accuracy=accuracy, count=3, labels=["a", "b"],
                       per_class={"a": {"precision": 1, "recall": 1, "f1": 1, "support": 2},
                                  "b": {"precision": 1, "recall": 1, "f1": 1, "support": 1}},
                       confusion_matrix=[[2, 0], [0, 1]], best_epoch=1,
                       history=[{"epoch": 1, "eval_loss": 0.5, "accuracy": accuracy, "macro_f1": accuracy}],
                       step_losses=[1.0, 0.8], path=folder)
    record.write(folder)
    return record


@pytest.fixture
def panel(qtbot, tmp_path):
    fake_run(tmp_path / "models" / "first")
    widget = RunsPanel()
    qtbot.addWidget(widget)
    widget.refresh(tmp_path)
    return widget


def test_rename_a_run(qtbot, panel, tmp_path, monkeypatch):
    monkeypatch.setattr(panel, "ask_new_name", lambda current: "keyword model")
    with qtbot.waitSignal(panel.changed):
        target = panel.rename_selected()
    assert target == tmp_path / "models" / "keyword model" and target.is_dir()
    assert [run.name for run in list_runs(tmp_path)] == ["keyword model"]
    assert panel.list.currentItem().text().startswith("keyword model")


def test_rename_refusal_is_shown_not_raised(qtbot, panel, monkeypatch):
    monkeypatch.setattr(panel, "ask_new_name", lambda current: "../outside")
    with qtbot.waitSignal(panel.failed) as failed:
        assert panel.rename_selected() is None
    assert "cannot be a folder name" in failed.args[0]


def test_delete_asks_first_and_says_the_size(qtbot, panel, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(panel, "ask_delete", lambda name, megabytes: asked.append((name, megabytes)) or False)
    assert not panel.delete_selected()
    assert (tmp_path / "models" / "first").is_dir() and asked[0][0] == "first" and asked[0][1] >= 2
    monkeypatch.setattr(panel, "ask_delete", lambda name, megabytes: True)
    with qtbot.waitSignal(panel.changed):
        assert panel.delete_selected()
    assert not (tmp_path / "models" / "first").exists() and panel.list.count() == 0
    assert not panel.delete_button.isEnabled()


def fake_training(record_for):
    """A stand-in for the trainer: the events of a run whose progress text once misled, then its record."""
    def run(data_root, out, settings, emit, cancel):
        emit(StageEvent("Loading audio", 0.0, Stage.LOADING_AUDIO))
        emit(StageEvent("Computing backbone features 0/10", 0.5, Stage.CACHING_FEATURES, 0, 10))
        emit(StageEvent("Computing backbone features 5/10", 0.7, Stage.CACHING_FEATURES, 5, 10))
        emit(StepEvent(1, 10, 0.1, 1.0, 1e-3, 1.0, 75.0, fraction=0.33))  # behind: must not move the bar back
        emit(StageEvent("Saving model", 0.95, Stage.SAVING))
        record = record_for(out)
        emit(TrainFinished(Outcome.CANCELLED if record.cancelled else Outcome.FINISHED,
                           record if record.path else None, 4.0))
        return record
    return run


@pytest.fixture
def train_tab(qtbot, tmp_path, tone_dataset, tiny_wav2vec2):
    tab = TrainTab(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.set_dataset(tone_dataset)
    tab.form.base_combo.setCurrentText(str(tiny_wav2vec2))
    return tab


def test_a_finished_run_is_announced_listed_and_shown(qtbot, train_tab, monkeypatch):
    monkeypatch.setattr(tab_module, "run_training", fake_training(lambda out: fake_run(out, 0.75)))
    statuses = []
    train_tab.status.connect(statuses.append)
    assert train_tab.start()
    with qtbot.waitSignal(train_tab.run_finished, timeout=20000) as finished:
        pass
    assert finished.args[0].parent == train_tab.store.root / "models"
    assert train_tab.runs.list.count() == 1 and train_tab.runs.current_path() == finished.args[0]
    assert "Right on 75%" in train_tab.results.summary.text()
    assert train_tab.progress.bar.value() == train_tab.progress.bar.maximum()
    assert train_tab.progress.phase.text().startswith("Finished")
    assert statuses[-1] == "Training finished"


def test_a_cancelled_run_says_cancelled_and_the_bar_never_went_back(qtbot, train_tab, monkeypatch):
    monkeypatch.setattr(tab_module, "run_training", fake_training(lambda out: RunRecord(cancelled=True)))
    values, statuses = [], []
    train_tab.progress.bar.valueChanged.connect(values.append)
    train_tab.status.connect(statuses.append)
    assert train_tab.start()
    with qtbot.waitSignal(train_tab.status, timeout=20000, check_params_cb=lambda text: text == "Training cancelled"):
        pass
    assert values == sorted(values) and max(values) == 950, "only forward; 0.33 after 0.7 is ignored"
    phase = train_tab.progress.phase.text()
    assert phase.startswith("Cancelled") and "no model was saved" in phase and "Saving model" not in phase
    assert statuses[-1] == "Training cancelled"
    log = train_tab.progress.log.toPlainText()
    assert "features 0/10" in log and "features 5/10" not in log, "a phase is logged once, not each step"
    assert log.rstrip().splitlines()[-1].endswith(phase)
    assert "no model was saved" in train_tab.message.text()


def test_a_words_run_cancelled_before_the_words_says_it_is_sound_only(qtbot, train_tab, monkeypatch):
    def cancelled_sound_only(out):
        record = fake_run(out, 0.75)
        record.cancelled = True
        return record

    monkeypatch.setattr(tab_module, "run_training", fake_training(cancelled_sound_only))
    train_tab.form.field("words").setChecked(True)
    assert train_tab.start()
    with qtbot.waitSignal(train_tab.run_finished, timeout=20000):
        pass
    assert "before it learned the words" in train_tab.message.text()
    assert "classifies by sound only" in train_tab.message.text()
    assert not train_tab.message._timer.isActive(), "what a cancel kept stays until the next message"
    assert "classifies by sound only" in train_tab.progress.log.toPlainText()


def test_thin_labels_are_warned_about_on_the_train_tab(qtbot, train_tab):
    store = train_tab.store
    store.delete([clip.file_name for clip in store.clips if clip.label == "high"][2:])
    train_tab.set_dataset(store)
    assert "high (2)" in train_tab.warnings.text() and train_tab.warnings.text().startswith("⚠")
    assert train_tab.start_button.isEnabled(), "a warning, not a blocker: two clips can train"


def test_a_failed_run_says_failed_and_why(qtbot, train_tab, monkeypatch):
    from intentdesk.core.errors import TrainingError

    def failing(data_root, out, settings, emit, cancel):
        emit(StageEvent("Loading audio", 0.1, Stage.LOADING_AUDIO))
        emit(TrainFinished(Outcome.FAILED, None, 1.0, "the disk is full"))
        raise TrainingError("the disk is full")

    monkeypatch.setattr(tab_module, "run_training", failing)
    statuses = []
    train_tab.status.connect(statuses.append)
    assert train_tab.start()
    qtbot.waitUntil(lambda: statuses[-1] == "Training failed", timeout=20000)
    assert train_tab.progress.phase.text() == "Failed after 1 s: the disk is full"
    assert train_tab.progress.log.toPlainText().count("Failed after") == 1, "the end is written once"
    assert "the disk is full" in train_tab.message.text()
    qtbot.waitUntil(lambda: not train_tab.is_running())
    qtbot.waitUntil(train_tab.start_button.isEnabled)


def test_the_run_shown_comes_back_after_a_restart(qtbot, tmp_path, tone_dataset):
    """A newcomer's walk: after a restart the Train tab showed no run, and the one picked had to be found again."""
    older = fake_run(tone_dataset.root / "models" / "older", 0.61)
    fake_run(tone_dataset.root / "models" / "newer", 0.93)
    settings_file = str(tmp_path / "s.ini")
    first = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(first)
    first.set_dataset(tone_dataset)
    assert "61" not in first.results.summary.text()
    row = next(i for i in range(first.runs.list.count()) if first.runs.list.item(i).text().startswith("older"))
    first.runs.list.setCurrentRow(row)
    assert "61" in first.results.summary.text()
    first.settings.sync()
    again = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(again)
    again.set_dataset(tone_dataset)
    assert again.runs.list.currentItem().text().startswith("older") and again.runs.current_path() == older.path
    assert "61" in again.results.summary.text(), "its results are on screen again, not only its row"
    again.runs.ask_new_name = lambda current: "renamed"
    renamed = again.runs.rename_selected()
    again.settings.sync()
    after_rename = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(after_rename)
    after_rename.set_dataset(tone_dataset)
    assert after_rename.runs.current_path() == renamed and "61" in after_rename.results.summary.text()
    older.path = renamed
    shutil.rmtree(older.path)  # gone since: nothing shown, nothing fails
    gone = TrainTab(QSettings(settings_file, QSettings.IniFormat))
    qtbot.addWidget(gone)
    gone.set_dataset(tone_dataset)
    assert gone.runs.list.currentItem() is None and "93" not in gone.results.summary.text()
