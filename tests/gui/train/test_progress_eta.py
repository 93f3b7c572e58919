"""The Progress panel says in plain words how long is left, while features are computed and while training."""

from PySide6.QtWidgets import QApplication

from intentdesk.core.events import Stage, StageEvent, StepEvent, TrainStarted
from intentdesk.gui.train.progress import ProgressPanel


def started(kind: Stage) -> TrainStarted:
    return TrainStarted(57, 3, 40, 10, ["a", "b"], "cpu", "full", kind)


def step(eta_s: float) -> StepEvent:
    return StepEvent(12, 57, 0.6, 0.4123, 1e-4, 30.0, eta_s, fraction=0.5)


def test_feature_caching_and_training_show_the_time_left(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.begin("Training")
    panel.on_event(StageEvent("Computing backbone features 0/2918", 0.1, Stage.CACHING_FEATURES, 0, 2918))
    assert panel.phase.text() == "Computing backbone features 0/2918"  # no rate yet: no guess
    panel.on_event(StageEvent("Computing backbone features 320/2918", 0.2, Stage.CACHING_FEATURES, 320, 2918, 65.2))
    assert panel.phase.text() == "Computing backbone features 320/2918 · about 1:05 left"
    panel.on_event(started(Stage.TRAINING))
    panel.on_event(step(8.4))
    assert panel.phase.text() == "Step 12/57 · loss 0.412 · about 8 s left"
    panel.on_event(step(0.2))
    assert panel.phase.text().endswith("about 1 s left")  # never "0 s left" while something is left
    assert "left" not in panel.log.toPlainText()  # the log keeps the phases, not the running estimate


def test_full_modes_warm_start_says_its_estimate_is_for_stage_1_only(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.begin("Training")
    panel.on_event(started(Stage.WARM_START))
    panel.on_event(step(75))
    assert panel.phase.text().endswith("about 1:15 left in stage 1")
    panel.on_event(started(Stage.FINE_TUNING))
    panel.on_event(step(600))
    assert panel.phase.text().endswith("about 10:00 left")


def test_the_log_does_not_move_when_the_phase_line_grows(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.resize(240, 400)
    panel.show()
    panel.begin("Training")
    QApplication.processEvents()
    top = panel.log.y()
    panel.on_event(StageEvent("Computing backbone features 320/2918", 0.2, Stage.CACHING_FEATURES, 320, 2918, 65.2))
    QApplication.processEvents()
    assert panel.phase.heightForWidth(panel.phase.width()) > panel.fontMetrics().lineSpacing()  # it wraps
    assert panel.log.y() == top
