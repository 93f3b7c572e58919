"""Train tab traps a newcomer walked into (issue #25): what a person typed is kept, a run's settings
are locked while it trains, and a saved run says what it really is."""

import pytest
from PySide6.QtCore import QSettings

from intentdesk.core.learning.settings import MODE_DEFAULTS
from intentdesk.gui.train.form import LOCKED_NOTE, SettingsForm


@pytest.fixture
def form(qtbot):
    widget = SettingsForm(["facebook/wav2vec2-base"])
    qtbot.addWidget(widget)
    return widget


# ---------------------------------------------------------------- 5: typed settings are kept
def test_choosing_full_keeps_the_values_a_person_typed_and_says_which_were_set(qtbot, form):
    for name, typed in (("epochs", "30"), ("batch_size", "16")):  # 30: typing the value that was there
        form.field(name).lineEdit().selectAll()
        qtbot.keyClicks(form.field(name).lineEdit(), typed)
    form.set_mode("full")
    assert form.field("epochs").value() == 30 and form.field("batch_size").value() == 16, "typed: kept"
    assert form.field("learning_rate").value() == pytest.approx(MODE_DEFAULTS["full"]["learning_rate"])
    assert form.note.text() == "Set for Full: learning rate 0.00002; kept what you typed: epochs 30, batch size 16."
    form.set_mode("quick")
    assert form.field("learning_rate").value() == pytest.approx(MODE_DEFAULTS["quick"]["learning_rate"])
    assert form.field("epochs").value() == 30 and form.field("batch_size").value() == 16


def test_the_form_is_locked_while_a_run_trains(qtbot, tmp_path, tone_dataset, tiny_wav2vec2, monkeypatch):
    import threading

    from intentdesk.gui.train import tab as tab_module
    from intentdesk.gui.train.tab import TrainTab

    release = threading.Event()

    def held_run(data_root, out, settings, emit, cancel):
        release.wait(30)
        return tab_module.NotStarted(["held by the test"])

    monkeypatch.setattr(tab_module, "run_training", held_run)
    tab = TrainTab(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.set_dataset(tone_dataset)
    tab.form.base_combo.setCurrentText(str(tiny_wav2vec2))
    assert tab.start()
    assert not tab.form.field("epochs").isEnabled() and not tab.form.base_combo.isEnabled()
    assert not tab.form.mode_buttons["full"].isEnabled() and not tab.form.advanced.isEnabled()
    assert tab.form.note.text() == LOCKED_NOTE
    release.set()
    qtbot.waitUntil(lambda: not tab.is_running() and tab.form.field("epochs").isEnabled(), timeout=20000)
    assert tab.form.note.text() != LOCKED_NOTE and tab.form.mode_buttons["full"].isEnabled()


# ---------------------------------------------------------------- 4: a run says what its model is
def saved_run(root, name, **fields):
    from intentdesk.core.runs import RunRecord

    folder = root / "models" / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    RunRecord(accuracy=0.857, f1={"macro": 0.85}, **fields).write(folder)
    return folder


def test_the_runs_list_says_what_each_model_is_and_which_use_the_words(qtbot, tmp_path):
    from intentdesk.core.runs import STAGE_1
    from intentdesk.gui.train.runs import RunsPanel

    saved_run(tmp_path, "2026-12-01_full_tiny", mode="full", cancelled=True, saved_stage=STAGE_1, words_asked=True)
    saved_run(tmp_path, "2026-12-01_quick_words", mode="quick", words_asked=True, fused={"accuracy": 1.0})
    saved_run(tmp_path, "2026-12-01_quick_sound", mode="quick")
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.refresh(tmp_path)
    lines = {panel.list.item(i).text().split()[0]: panel.list.item(i).text() for i in range(panel.list.count())}
    assert "(quick model from stage 1 of a cancelled full run, no words part" in lines["2026-12-01_full_tiny"]
    assert panel.list.item(0).toolTip() == panel.list.item(0).text(), "the whole line, where the list is narrow"
    assert "(quick, with words, right on" in lines["2026-12-01_quick_words"]
    assert "(quick, right on 85.7% of its test clips" in lines["2026-12-01_quick_sound"]


def test_a_full_run_cancelled_in_stage_2_says_the_stage_1_model_was_kept(qtbot, tmp_path, tone_dataset, tiny_wav2vec2,
                                                                           monkeypatch):
    from intentdesk.core.runs import STAGE_1, read_run
    from intentdesk.gui.train import tab as tab_module
    from intentdesk.gui.train.tab import TrainTab

    def cancelled_in_stage_2(data_root, out, settings, emit, cancel):
        saved_run(out.parent.parent, out.name, mode="full", cancelled=True, saved_stage=STAGE_1)
        return read_run(out)

    monkeypatch.setattr(tab_module, "run_training", cancelled_in_stage_2)
    tab = TrainTab(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.set_dataset(tone_dataset)
    tab.form.base_combo.setCurrentText(str(tiny_wav2vec2))
    assert tab.start()
    with qtbot.waitSignal(tab.run_finished, timeout=20000):
        pass
    assert "cancelled: the quick model from stage 1" in tab.message.text()
    assert "quick model from stage 1 of a cancelled full run" in tab.runs.list.item(0).text()
