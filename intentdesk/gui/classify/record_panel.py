"""The Microphone panel: record one take to classify, or live mode (every utterance classified as it ends)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import Recorder
from intentdesk.core.audio.vad import trim_silence
from intentdesk.core.inference.live import LiveResult, LiveSession
from intentdesk.gui.common.jobs import start_job
from intentdesk.gui.common.microphone import DeviceChooser, Microphone
from intentdesk.gui.common.widgets import BusyRow, fit_texts

RECORD_TEXT = "●  Record"
STOP_TEXT = "■  Stop and classify"
LIVE_TEXTS = ("Live: off", "Live: on")
CLASSIFYING_TEXT = "Classifying the recording…"


class RecordPanel(QGroupBox):
    """Records through the app's one `Microphone` (the device chosen here or in Label).

    `take_classified` carries (samples, FileResult) of a recorded take (with its transcript); `live_heard`
    each `LiveResult`; `problem` a message for the user (no microphone, a failed model call)."""

    take_classified = Signal(object)
    live_heard = Signal(object)
    problem = Signal(str)
    status = Signal(str)
    _live_failed = Signal(str)  # from the live worker thread, delivered in the GUI thread

    def __init__(self, microphone: Microphone, classifier: Callable[[], object], threshold: Callable[[], float],
                 parent=None) -> None:
        super().__init__("Microphone", parent)
        self.microphone = microphone
        self._classifier = classifier
        self._threshold = threshold
        self._live: LiveSession | None = None
        self._has_model = False
        self._classifying = False  # a recorded take is being classified: Record waits for it
        self.record_button = fit_texts(QPushButton(RECORD_TEXT), (RECORD_TEXT, STOP_TEXT))
        self.record_button.clicked.connect(self.toggle_record)
        self.live_button = fit_texts(QPushButton(LIVE_TEXTS[0]), LIVE_TEXTS)
        self.live_button.setCheckable(True)
        self.live_button.setToolTip("Listen continuously; each utterance is classified when it ends")
        self.live_button.toggled.connect(self.set_live)
        self.live_list = QListWidget()
        self.mic_note = QLabel("")  # why nothing can be recorded, in plain words
        self.mic_note.setStyleSheet("color: #9a5b00;")
        self.busy = BusyRow()  # "Classifying the recording…" with a moving bar; its room is kept when hidden
        row = QHBoxLayout()
        row.addWidget(DeviceChooser(microphone), 1)
        row.addWidget(self.record_button)
        row.addWidget(self.live_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.mic_note)
        layout.addWidget(self.busy)
        layout.addWidget(self.live_list, 1)
        self.live_heard.connect(self._show_live)
        self._live_failed.connect(self._stop_after_failure)
        microphone.changed.connect(self._device_changed)
        self._device_changed()

    @property
    def recorder(self) -> Recorder | None:
        return self.microphone.recorder

    def set_enabled(self, has_model: bool) -> None:
        """Record and Live need a model and a device to record from (the note says when there is none);
        Record also waits while its last take is being classified."""
        self._has_model = has_model
        usable = has_model and self.microphone.recorder is not None
        self.record_button.setEnabled(usable and not self._classifying)
        self.live_button.setEnabled(usable)

    def _open(self) -> Recorder | None:
        recorder = self.microphone.open()
        if recorder is None:
            self.problem.emit(self.microphone.problem or "Microphone unavailable.")
        return recorder

    # ------------------------------------------------------------------ one take
    def toggle_record(self) -> None:
        recorder = self._open()
        if recorder is None:
            return
        if recorder.recording:
            self.record_button.setText(RECORD_TEXT)
            self.classify_take(trim_silence(recorder.stop_take(), RATE))
        else:
            recorder.start_take()
            self.record_button.setText(STOP_TEXT)

    def classify_take(self, take: np.ndarray) -> None:
        """Classify a recorded take in the background; until it is done the panel says so with a moving
        bar and Record waits (a first call can take many seconds: the model warms up, words are transcribed)."""
        classifier = self._classifier()

        def work(_emit, _cancel):
            return take, classifier.classify_recording(take, RATE)  # with what was heard, for a words model

        self._set_classifying(True)
        start_job(self, work, self.take_classified.emit, self.problem.emit,
                  on_finished=lambda: self._set_classifying(False))

    def _set_classifying(self, on: bool) -> None:
        self._classifying = on
        self.busy.show_busy(CLASSIFYING_TEXT if on else "")
        self.set_enabled(self._has_model)

    # ------------------------------------------------------------------ live mode
    def set_live(self, on: bool) -> None:
        """Start or stop listening (core/inference/live.py does the cutting and classifying)."""
        self.live_button.setText(LIVE_TEXTS[on])
        self._stop_live()
        if not on:
            return
        recorder = self._open()
        classifier = self._classifier()
        if recorder is None or classifier is None:
            self.live_button.setChecked(False)
            return
        self._live = LiveSession(classifier, recorder, self.live_heard.emit, self._live_failed.emit)
        self._live.start()
        self.status.emit("Live mode: listening")

    def restart_live(self) -> None:
        """Go on listening with the model (or microphone) now in use."""
        if self.live_button.isChecked():
            self.set_live(True)

    def _show_live(self, result: LiveResult) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(result.at))
        if result.error:
            self.live_list.insertItem(0, f"{stamp}  (skipped: {result.error})")
            return
        top = result.ranking[0]
        sure = top.score >= self._threshold() and not getattr(result, "uncertain", False)
        verdict = top.label if sure else f"uncertain ({top.label}?)"
        heard = getattr(result, "transcript", None)
        self.live_list.insertItem(0, f"{stamp}  {verdict}  {top.score:.0%}" + (f"  “{heard}”" if heard else ""))

    def _stop_after_failure(self, message: str) -> None:
        self.live_button.setChecked(False)
        self.problem.emit(message)

    def _device_changed(self) -> None:
        self.mic_note.setText(self.microphone.problem)
        self.mic_note.setVisible(bool(self.microphone.problem))
        self.set_enabled(self._has_model)
        if self._live is not None and self._live.microphone is not self.microphone.recorder:
            self.restart_live()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def shutdown(self) -> None:
        self._stop_live()
