"""The Progress panel: a bar over the whole run that only moves forward, the current phase with its ETA, and a log
whose last line says how the run ended (finished, cancelled or failed)."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout, QWidget

from intentdesk.core.events import EpochEvent, Outcome, Stage, StageEvent, StepEvent, TrainFinished, TrainStarted

BAR_STEPS = 1000
LOG_LINES = 6  # the log's asked-for height; it takes whatever height is left


def format_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


def time_left(seconds: float | None, where: str = "") -> str:
    """The phase line's time estimate, e.g. " · about 1:05 left" (+ `where`); nothing while there is none."""
    return "" if seconds is None else f" · about {format_eta(max(1, round(seconds)))} left{where}"


def ending_text(outcome: Outcome, saved: bool, seconds: float, error: str = "") -> str:
    """The run's last word, in plain terms: how it ended and whether a model was kept."""
    took = format_eta(seconds)
    if outcome is Outcome.FAILED:
        return f"Failed after {took}: {error or 'see the message above'}"
    if outcome is Outcome.CANCELLED:
        return (f"Cancelled after {took}: the best model so far was saved" if saved else
                f"Cancelled after {took}, before the first test: no model was saved")
    return f"Finished in {took}: the model was saved"


class RunLog(QPlainTextEdit):
    """The run's log, asking for a few lines only: the Train tab's column is as tall as its parts ask
    for, and a taller log pushed its newest lines (how the run ended) below the fold at the usual
    window size. The panel's layout still gives the log all the height that is left."""

    def sizeHint(self) -> QSize:
        frame = self.frameWidth() * 2 + self.document().documentMargin() * 2
        return QSize(super().sizeHint().width(), int(LOG_LINES * self.fontMetrics().lineSpacing() + frame))


class ProgressPanel(QWidget):
    """Fed with a run's events; `begin` resets it for a new run, `end` writes how the run ended (once)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setFormat("%p%")
        self.bar.setToolTip("How far the whole run is, from loading the clips to saving the model")
        self.phase = QLabel("")
        self.phase.setWordWrap(True)
        # Two lines tall from the start, text at the top: the log below stays put when a phase
        # line grows a time estimate or wraps.
        self.phase.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.phase.setMinimumHeight(2 * self.phase.fontMetrics().lineSpacing())
        self.log = RunLog(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.phase)
        layout.addWidget(self.log, 1)
        self.ended = True
        self._logged_kind = None
        self._training_kind: Stage | None = None
        self._unannounced = ""  # the stage whose steps came with no TrainStarted (see on_event)
        self._began = time.monotonic()

    def begin(self, text: str) -> None:
        self.bar.setValue(0)
        self.log.clear()
        self.phase.setText("Starting…")
        self.ended = False
        self._logged_kind = None
        self._training_kind = None
        self._unannounced = ""
        self._began = time.monotonic()
        self.add_log(text)

    def fraction(self) -> float:
        return self.bar.value() / BAR_STEPS

    def _advance(self, fraction: float | None) -> None:
        """Move the bar to `fraction` of the whole run, never back."""
        if fraction is not None and not self.ended:
            self.bar.setValue(max(self.bar.value(), round(min(1.0, fraction) * BAR_STEPS)))

    def on_event(self, event) -> None:
        if isinstance(event, StageEvent):
            self._advance(event.fraction)
            self.phase.setText(event.stage + time_left(event.eta_s))
            self._unannounced = event.stage
            if event.kind is None or event.kind != self._logged_kind:  # a new phase, not its n-th step
                self._logged_kind = event.kind
                self.add_log(event.stage)
        elif isinstance(event, TrainStarted):
            self._training_kind = event.kind
            self._unannounced = ""
            self.add_log(f"{event.train_clips} clips to learn from, {event.eval_clips} kept aside to test, "
                         f"{len(event.labels)} labels, {event.total_steps} steps on {event.device}")
        elif isinstance(event, StepEvent):
            self._advance(event.fraction)
            where = " in stage 1" if self._training_kind is Stage.WARM_START else ""  # see StepEvent.eta_s
            # Steps no TrainStarted announced (Quick mode's last training on all clips) count from 1
            # again: the stage's name above them says why.
            heading = f"{self._unannounced}\n" if self._unannounced else ""
            self.phase.setText(f"{heading}Step {event.step}/{event.total_steps} · loss {event.loss:.3f}"
                               + time_left(event.eta_s, where))
        elif isinstance(event, EpochEvent):
            self.add_log(f"Pass {event.epoch}: test loss {event.eval_loss:.3f}, accuracy {event.accuracy:.3f}, "
                         f"macro-F1 {event.macro_f1:.3f}{'  ★ best so far' if event.is_best else ''}")
        elif isinstance(event, TrainFinished):
            self.end(event.outcome, event.output_dir is not None, event.seconds, event.error)

    def end(self, outcome: Outcome, saved: bool, seconds: float | None = None, error: str = "") -> None:
        """Write how the run ended, in the phase line and the log; later calls for the same run do nothing."""
        if self.ended:
            return
        seconds = time.monotonic() - self._began if seconds is None else seconds
        if outcome is Outcome.FINISHED:
            self.bar.setValue(BAR_STEPS)
        self.ended = True
        text = ending_text(outcome, saved, seconds, error)
        self.phase.setText(text)
        self.add_log(text)

    def add_log(self, text: str) -> None:
        self.log.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {text}")
