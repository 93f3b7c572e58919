"""The Progress panel: a bar over the whole run that only moves forward (and stops where it is on Cancel),
the current phase with one estimate of the time left for the whole run, and a log whose last line says how
the run ended (finished, cancelled or failed)."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout, QWidget

from intentdesk.core.events import EpochEvent, Outcome, Stage, StageEvent, StepEvent, TrainFinished, TrainStarted
from intentdesk.gui.common.wording import count, duration, percent

BAR_STEPS = 1000
LOG_LINES = 6  # the log's asked-for height; it takes whatever height is left
PHASE_LINES = 3
WORDS_STAGES = (Stage.TRANSCRIBING, Stage.TRAINING_WORDS)
DEVICE_NAMES = {"cpu": "the processor (CPU)", "cuda": "the graphics card (GPU)", "mps": "the Apple GPU"}
LOSS_TIP = ("Step {step} of {total} of this stage; training loss {loss:.3f}: how wrong the model still is on the "
            "training clips (lower is better)")


def time_left(seconds: float | None, then: str = "") -> str:
    """The phase line's estimate for the whole run, e.g. " · about 22 min 36 s left" (+ `then`, what it
    leaves out); nothing while there is none."""
    return "" if seconds is None else f" · about {duration(max(1, round(seconds)))} left{then}"


def ending_text(outcome: Outcome, saved: bool, seconds: float, error: str = "") -> str:
    """The run's last word, in plain terms: how it ended and whether a model was kept."""
    took = duration(seconds)
    if outcome is Outcome.FAILED:
        return f"Failed after {took}: {error or 'see the message above'}"
    if outcome is Outcome.CANCELLED:
        return (f"Cancelled after {took}: the best model so far was saved" if saved else
                f"Cancelled after {took}, before the first test: no model was saved")
    return f"Finished in {took}: the model was saved"


def cancelling_text(tested: bool) -> str:
    """What Cancel will leave, true to whether a model has been tested yet (only a tested one is saved)."""
    return ("Cancelling… the best model tested so far will be saved." if tested else
            "Cancelling… no model has been tested yet, so none will be saved.")


class RunLog(QPlainTextEdit):
    """The run's log, asking for a few lines only: the Train tab's column is as tall as its parts ask
    for, and a taller log pushed its newest lines (how the run ended) below the fold at the usual
    window size. The panel's layout still gives the log all the height that is left."""

    def sizeHint(self) -> QSize:
        frame = self.frameWidth() * 2 + self.document().documentMargin() * 2
        return QSize(super().sizeHint().width(), int(LOG_LINES * self.fontMetrics().lineSpacing() + frame))


class ProgressPanel(QWidget):
    """Fed with a run's events; `begin` resets it for a new run, `cancelling` when the user cancels,
    `end` writes how the run ended (once)."""

    def __init__(self, parent=None, clock=time.monotonic) -> None:
        super().__init__(parent)
        self.clock = clock  # the estimate counts down by it between events
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setFormat("%p%")
        self.bar.setToolTip("How far the whole run is, from loading the clips to saving the model")
        self.phase = QLabel("")
        self.phase.setWordWrap(True)
        # PHASE_LINES tall from the start, text at the top: the log below stays put when a phase
        # line grows a time estimate or wraps (a stage's name over its pass, each wrapping once at most).
        self.phase.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.phase.setMinimumHeight(PHASE_LINES * self.phase.fontMetrics().lineSpacing())
        self.log = RunLog(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.phase)
        layout.addWidget(self.log, 1)
        self._reset(False)
        self.ended = True

    def begin(self, text: str, words: bool = False) -> None:
        """A new run (`words`: it learns the words too, after the sound: not in the estimate until it starts)."""
        self.bar.setValue(0)
        self.log.clear()
        self.phase.setText("Starting…")
        self.phase.setToolTip("")
        self._reset(words)
        self.add_log(text)

    def _reset(self, words: bool) -> None:
        self.ended = False
        self._logged_kind = None
        self._stage_text = ""
        self._epochs = 1
        self._epoch_base = 0  # passes of earlier stages: the log counts each stage's passes as its status line does
        self._last_epoch = 0
        self._words_ahead = words
        self._deadline: float | None = None  # when the run should end, by the latest whole-run estimate
        self._tested = False  # a model has been tested (an epoch ended): Cancel keeps it
        self._cancelling = False
        self._began = self.clock()

    def fraction(self) -> float:
        return self.bar.value() / BAR_STEPS

    def _advance(self, fraction: float | None) -> None:
        """Move the bar to `fraction` of the whole run, never back, and not at all once cancelled (what
        follows a cancel is short, and the bar would jump to saving)."""
        if fraction is not None and not self.ended and not self._cancelling:
            self.bar.setValue(max(self.bar.value(), round(min(1.0, fraction) * BAR_STEPS)))

    def _time_text(self, run_eta_s: float | None, stage_eta_s: float | None = None) -> str:
        """One estimate for the whole run: the latest one counts down between events that bring none
        (a phase without a count); where none can be made yet, the phase's own, said to be that."""
        now = self.clock()
        if self._cancelling:
            return ""
        if run_eta_s is not None:
            self._deadline = now + run_eta_s
        if self._deadline is not None:
            left = self._deadline - now
            then = ", then the words part" if self._words_ahead else ""
            return time_left(left, then) if left > 0 else ""
        if stage_eta_s is not None:
            return f"{time_left(stage_eta_s)} for this part (what follows is timed when it starts)"
        return ""

    def on_event(self, event) -> None:
        if self._cancelling and not isinstance(event, (TrainFinished, EpochEvent)) and not (
                isinstance(event, StageEvent) and event.kind is Stage.SAVING):
            return  # what the run still starts while it stops would read as going on
        if isinstance(event, StageEvent):
            self._on_stage(event)
        elif isinstance(event, TrainStarted):
            self._epochs = max(1, event.epochs)
            self._epoch_base = self._last_epoch
            device = DEVICE_NAMES.get(event.device.split(":")[0], event.device)
            self.add_log(f"{count(event.train_clips, 'clip')} to learn from, {event.eval_clips:,} kept aside to "
                         f"test, {count(len(event.labels), 'label')}, {count(event.epochs, 'pass', 'passes')} "
                         f"over the clips, on {device}")
        elif isinstance(event, StepEvent):
            self._advance(event.fraction)
            done = math.ceil(event.step * self._epochs / max(1, event.total_steps))
            self.phase.setText(f"{self._stage_text}\nPass {done} of {self._epochs} over the training clips"
                               + self._time_text(event.run_eta_s))
            self.phase.setToolTip(LOSS_TIP.format(step=event.step, total=event.total_steps, loss=event.loss))
        elif isinstance(event, EpochEvent):
            self._tested = True
            self._last_epoch = event.epoch
            best = "  ★ best so far" if event.is_best else ""
            self.add_log(f"Pass {event.epoch - self._epoch_base} of {self._epochs}: {percent(event.accuracy)} of the "
                         f"test clips right, average over labels {event.macro_f1:.3f}{best}")
        elif isinstance(event, TrainFinished):
            self.end(event.outcome, event.output_dir is not None, event.seconds, event.error)

    def _on_stage(self, event: StageEvent) -> None:
        self._advance(event.fraction)
        if event.kind in WORDS_STAGES:
            self._words_ahead = False  # under way: in the estimate from now on
        self._stage_text = event.stage
        self.phase.setText(event.stage + self._time_text(event.run_eta_s, event.eta_s))
        self.phase.setToolTip("")
        if event.kind is None or event.kind != self._logged_kind:  # a new phase, not its n-th step
            self._logged_kind = event.kind
            self.add_log(event.stage)

    def cancelling(self) -> None:
        """The user cancelled: the bar stays where it is, and the line says what will be kept."""
        if self.ended or self._cancelling:
            return
        self._cancelling = True
        text = cancelling_text(self._tested)
        self.phase.setText(text)
        self.add_log(text)

    def end(self, outcome: Outcome, saved: bool, seconds: float | None = None, error: str = "") -> None:
        """Write how the run ended, in the phase line and the log; later calls for the same run do nothing."""
        if self.ended:
            return
        seconds = self.clock() - self._began if seconds is None else seconds
        if outcome is Outcome.FINISHED:
            self.bar.setValue(BAR_STEPS)
        self.ended = True
        text = ending_text(outcome, saved, seconds, error)
        self.phase.setText(text)
        self.phase.setToolTip("")
        self.add_log(text)

    def add_log(self, text: str) -> None:
        self.log.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {text}")
