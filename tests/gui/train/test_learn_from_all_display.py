"""Quick mode's last training on all clips, as the Train tab shows it: its own curve, a named phase
line, and a log whose last lines stay in view at the usual window size."""

import gc

from PySide6.QtCore import QSettings

from intentdesk.core.events import Stage, StageEvent, StepEvent, TrainStarted
from intentdesk.gui.train.plots import TrainingCurves
from intentdesk.gui.train.progress import ProgressPanel
from intentdesk.gui.train.tab import TrainTab

ALL_CLIPS = "Learning from all 550 clips (the test clips too) for the saved model"


def legend_names(curves: TrainingCurves) -> list[str]:
    return [label.text for _sample, label in curves.loss_plot.plotItem.legend.items]


def test_the_training_on_all_clips_gets_its_own_line_not_a_jump_back(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    for step in range(1, 61):  # 30 passes of 2 steps, evaluated
        curves.add_step(step / 2, 1.0 / step)
    for step in range(1, 61):  # the same training again on all clips: passes count from 0 again
        curves.add_step(step / 2, 2.0 / step)
    assert curves.step_epochs == sorted(curves.step_epochs) and len(curves.steps) == 60
    assert len(curves.final_steps) == 60 and curves.final_epochs[0] == 0.5
    x, _y = curves.smooth_loss.getData()
    assert list(x) == sorted(x)  # the first line never runs back to its start
    assert any("all clips" in name for name in legend_names(curves))
    curves.clear()
    assert not curves.final_steps and not any("all clips" in name for name in legend_names(curves))
    gc.collect()  # pyqtgraph leaves cyclic garbage per redraw: collect it here, not in the next test's timed run


def test_steps_without_a_training_start_are_headed_by_their_stage(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.begin("Training")
    panel.on_event(StageEvent("Training the output layer on cached features", 0.3, Stage.TRAINING))
    panel.on_event(TrainStarted(450, 30, 460, 90, ["a", "b"], "cpu", "quick", Stage.TRAINING))
    panel.on_event(StepEvent(450, 450, 30.0, 0.51, 1e-4, 30.0, 0.4, fraction=0.6, run_eta_s=0.4))
    assert panel.phase.text() == ("Training the output layer on cached features\n"
                                  "Pass 30 of 30 over the training clips · about 1 s left")
    panel.on_event(StageEvent(ALL_CLIPS, 0.6, Stage.TRAINING))
    panel.on_event(StepEvent(38, 540, 2.1, 0.573, 1e-4, 31.0, 20.0, fraction=0.7, run_eta_s=20.0))
    assert panel.phase.text() == f"{ALL_CLIPS}\nPass 3 of 30 over the training clips · about 20 s left"


def test_the_left_column_fits_the_usual_window_so_the_log_end_shows(qtbot, tmp_path):
    tab = TrainTab(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.resize(1180, 700)  # the Train tab's area in the 1200 x 780 window the app opens with
    tab.show()
    qtbot.waitExposed(tab)
    log = tab.progress.log
    qtbot.waitUntil(lambda: log.height() > 0)
    assert log.visibleRegion().boundingRect().height() == log.height()  # all of it in view, nothing scrolled away
    assert log.height() >= 4 * log.fontMetrics().lineSpacing()


def test_fast_steps_are_drawn_together_and_the_last_one_soon(qtbot, monkeypatch):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    draws = []
    monkeypatch.setattr(curves.smooth_loss, "setData", lambda *args, **kwargs: draws.append(len(args[0])))
    for step in range(1, 301):  # a fast Quick run: hundreds of steps between two turns of the event loop
        curves.add_step(step / 10, 1.0 / step)
    assert len(draws) <= 20  # only the first few steps are drawn one by one
    qtbot.waitUntil(lambda: draws[-1] == 300, timeout=30000)  # the rest together, when the draw timer fires


def test_a_saved_run_shows_its_training_on_all_clips_again(qtbot, tmp_path, tone_model):
    """A newcomer's walk: the dashed line drawn live was gone when the run was opened after a restart."""
    from intentdesk.core.runs import read_record

    record = read_record(tone_model)
    assert record.learned_from_all and record.final_pass_losses
    positions = [position for position, _loss in record.final_pass_losses]
    assert positions == sorted(positions) and positions[0] > 0
    tab = TrainTab(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(tab)
    tab.show_run(record)
    assert tab.curves.final_steps == [loss for _position, loss in record.final_pass_losses]
    assert any("all clips" in name for name in legend_names(tab.curves))
    x, _y = tab.curves.final_loss.getData()
    assert list(x) == positions
    gc.collect()
