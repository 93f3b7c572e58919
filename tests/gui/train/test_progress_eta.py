"""The Progress panel says in plain words how long the whole run has left (one estimate, never a clock
time), what it counts, and never moves the bar back or on after Cancel (issue 25, items 9 and 13)."""

from PySide6.QtWidgets import QApplication

from intentdesk.core.events import EpochEvent, Outcome, Stage, StageEvent, StepEvent, TrainStarted
from intentdesk.gui.train.progress import ProgressPanel

READING = ("The base model listens to every clip: 320 of 2,918 "
           "(1,120 clips; the 899 training clips again slower and faster)")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def panel_with_clock(qtbot, words: bool = False) -> tuple[ProgressPanel, Clock]:
    clock = Clock()
    panel = ProgressPanel(clock=clock)
    qtbot.addWidget(panel)
    panel.begin("Training", words)
    return panel, clock


def started(kind: Stage, epochs: int = 3) -> TrainStarted:
    return TrainStarted(57, epochs, 40, 10, ["a", "b"], "cpu", "full", kind)


def step(n: int, run_eta_s: float | None, fraction: float = 0.5, total: int = 57) -> StepEvent:
    return StepEvent(n, total, 0.6, 0.4123, 1e-4, 30.0, 5.0, fraction=fraction, run_eta_s=run_eta_s)


def test_the_time_left_is_the_whole_runs_in_minutes_and_seconds(qtbot):
    panel, _clock = panel_with_clock(qtbot)
    panel.on_event(StageEvent("The base model listens to every clip: 0 of 2,918", 0.1, Stage.CACHING_FEATURES, 0, 2918))
    assert panel.phase.text() == "The base model listens to every clip: 0 of 2,918"  # no rate yet: no guess
    panel.on_event(StageEvent(READING, 0.2, Stage.CACHING_FEATURES, 320, 2918, eta_s=13.0, run_eta_s=1356.4))
    assert panel.phase.text() == f"{READING} · about 22 min 36 s left"  # the run's, not the 13 s of this part
    panel.on_event(StageEvent("Stage 2 of 2: adapting the whole model", 0.3, Stage.FINE_TUNING))
    panel.on_event(started(Stage.FINE_TUNING))
    panel.on_event(step(12, run_eta_s=600.0))
    assert panel.phase.text() == ("Stage 2 of 2: adapting the whole model\n"
                                  "Pass 1 of 3 over the training clips · about 10 min 00 s left")
    assert "loss 0.412" in panel.phase.toolTip() and "loss" not in panel.phase.text()
    panel.on_event(step(57, run_eta_s=0.2))
    assert panel.phase.text().endswith("Pass 3 of 3 over the training clips · about 1 s left")  # never "0 s"
    assert "left" not in panel.log.toPlainText()  # the log keeps the phases, not the running estimate


def test_between_estimates_the_last_one_counts_down(qtbot):
    """The final scoring and saving send no estimate: the last one goes on counting, it does not vanish."""
    panel, clock = panel_with_clock(qtbot)
    panel.on_event(step(57, run_eta_s=90.0))
    clock.now += 30
    panel.on_event(StageEvent("Testing the best model on the clips kept aside", 0.9, Stage.EVALUATING))
    assert panel.phase.text().endswith("about 1 min 00 s left")
    clock.now += 120  # later than estimated: no made-up number
    panel.on_event(StageEvent("Saving the model", 0.95, Stage.SAVING))
    assert panel.phase.text() == "Saving the model"


def test_without_a_whole_run_estimate_the_part_says_it_is_only_a_part(qtbot):
    panel, _clock = panel_with_clock(qtbot)
    panel.on_event(StageEvent(READING, 0.2, Stage.CACHING_FEATURES, 320, 2918, eta_s=65.0))
    assert panel.phase.text().endswith("about 1 min 05 s left for this part (what follows is timed when it starts)")


def test_a_run_with_words_says_the_words_part_comes_after_the_estimate(qtbot):
    panel, _clock = panel_with_clock(qtbot, words=True)
    panel.on_event(step(12, run_eta_s=200.0))
    assert panel.phase.text().endswith("about 3 min 20 s left, then the words part")
    panel.on_event(StageEvent("Words: transcribing the clips 3/40", 0.8, Stage.TRANSCRIBING, 3, 40, 30.0, 31.0))
    assert panel.phase.text().endswith("about 31 s left")


def test_the_bar_stops_on_cancel_and_the_text_is_true_to_what_is_kept(qtbot):
    panel, _clock = panel_with_clock(qtbot)
    panel.on_event(StageEvent(READING, 0.2, Stage.CACHING_FEATURES, 320, 2918, 13.0, 100.0))
    panel.cancelling()
    assert "no model has been tested yet, so none will be saved" in panel.phase.text()
    at = panel.fraction()
    panel.on_event(StageEvent("Stage 1 of 2: learning your labels", 0.3, Stage.WARM_START))
    panel.on_event(started(Stage.WARM_START))
    assert "Cancelling" in panel.phase.text() and "Stage 1" not in panel.log.toPlainText()  # not going on
    panel.on_event(StageEvent("Saving the model", 0.95, Stage.SAVING))  # what follows a cancel moves nothing
    assert panel.fraction() == at and "left" not in panel.phase.text()
    panel.end(Outcome.CANCELLED, False, 12.0)
    assert panel.fraction() == at
    assert panel.phase.text() == "Cancelled after 12 s, before the first test: no model was saved"

    panel.begin("Again")
    panel.on_event(started(Stage.TRAINING))
    panel.on_event(EpochEvent(1, 0.5, 0.8, 0.78, 0.6, True, 10.0))
    panel.cancelling()
    assert "the best model tested so far will be saved" in panel.phase.text()


def test_the_log_is_plain_words(qtbot):
    panel, _clock = panel_with_clock(qtbot)
    panel.on_event(TrainStarted(1020, 30, 899, 221, ["a", "b", "c"], "cpu", "quick", Stage.TRAINING))
    panel.on_event(EpochEvent(3, 0.41, 220 / 221, 0.948, 0.5, True, 10.0))
    log = panel.log.toPlainText()
    assert ("899 clips to learn from, 221 kept aside to test, 3 labels, 30 passes over the clips, "
            "on the processor (CPU)") in log
    assert "Pass 3 of 30: 99.5% of the test clips right" in log and "loss" not in log and "steps" not in log


def test_the_log_counts_each_stages_passes_as_the_status_line_does(qtbot):
    """Full mode's stage 2 is passes 31-36 of the run (the curves go on), but its status line says "Pass 2 of
    6": so does the log."""
    panel, _clock = panel_with_clock(qtbot)
    panel.on_event(TrainStarted(1020, 30, 899, 221, ["a", "b", "c"], "cpu", "full", Stage.WARM_START))
    panel.on_event(EpochEvent(30, 0.41, 0.9, 0.9, 0.5, True, 10.0))
    panel.on_event(TrainStarted(600, 6, 899, 221, ["a", "b", "c"], "cpu", "full", Stage.FINE_TUNING))
    panel.on_event(StepEvent(150, 600, 31.5, 0.3, 1e-5, 20.0, 60.0))
    panel.on_event(EpochEvent(31, 0.3, 0.95, 0.95, 0.4, True, 30.0))
    log = panel.log.toPlainText()
    assert "Pass 30 of 30:" in log and "Pass 1 of 6:" in log and "Pass 31" not in log
    assert "Pass 2 of 6 over the training clips" in panel.phase.text()


def test_the_log_does_not_move_when_the_phase_line_grows(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)  # narrower than the Train tab's left column ever is
    panel.show()
    panel.begin("Training")
    QApplication.processEvents()
    top = panel.log.y()
    panel.on_event(StageEvent(READING, 0.2, Stage.CACHING_FEATURES, 320, 2918, 65.2, 65.2))
    QApplication.processEvents()
    assert panel.phase.heightForWidth(panel.phase.width()) > panel.fontMetrics().lineSpacing()  # it wraps
    assert panel.log.y() == top
