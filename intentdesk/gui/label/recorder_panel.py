"""The microphone and the big Record button: countdown, level meter, takes that end at a maximum length."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.audio.microphone import MicrophoneError, Recorder
from intentdesk.gui.common.microphone import DeviceChooser, Microphone
from intentdesk.gui.common.widgets import LevelMeter

RECORD_STYLE = "font-size: 18px; font-weight: bold;"
STOP_STYLE = RECORD_STYLE + " background: #e04848; color: white;"


class RecorderPanel(QWidget):
    """Turns Space/the button into takes: `take_recorded` carries the raw samples of each one.

    The hint under the button always says what pressing it does now (record, stop, or why it
    cannot record), so a disabled button never sits next to "press the button".
    """

    take_recorded = Signal(object)  # np.ndarray, float32 at RATE
    failed = Signal(str)

    def __init__(self, microphone: Microphone, parent=None) -> None:
        super().__init__(parent)
        self.microphone = microphone
        self.has_dataset = False
        self._countdown_left = 0
        self._build()
        microphone.changed.connect(self.update_state)
        self._poll = QTimer(self, interval=50, timeout=self._tick)
        self._poll.start()
        self._countdown_timer = QTimer(self, interval=1000, timeout=self._countdown_step)
        self.update_state()

    def _build(self) -> None:
        box = QGroupBox("Microphone")
        row = QHBoxLayout(box)
        self.device_combo = DeviceChooser(self.microphone)
        self.meter = LevelMeter()
        self.max_seconds = QDoubleSpinBox(minimum=1.0, maximum=30.0, value=8.0, suffix=" s max", singleStep=1.0)
        self.countdown = QCheckBox("3-2-1 countdown")
        for widget, stretch in ((self.device_combo, 0), (self.meter, 1), (self.max_seconds, 0), (self.countdown, 0)):
            row.addWidget(widget, stretch)
        self.mic_note = QLabel()
        self.mic_note.setStyleSheet("color: #a33;")
        self.record_button = QPushButton("●  Record  (Space)")
        self.record_button.setMinimumHeight(56)
        self.record_button.setStyleSheet(RECORD_STYLE)
        self.record_button.clicked.connect(self.toggle)
        self.take_status = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (box, self.mic_note, self.record_button, self.take_status):
            layout.addWidget(widget)

    @property
    def recorder(self) -> Recorder | None:
        return self.microphone.recorder

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.recording

    def set_has_dataset(self, has_dataset: bool) -> None:
        self.has_dataset = has_dataset
        self.update_state()

    def update_state(self) -> None:
        """Button enabled only when a take can be recorded, and a hint that says why not."""
        self.mic_note.setText(self.microphone.problem)
        can_record = self.has_dataset and self.microphone.available
        self.record_button.setEnabled(can_record)
        if self.recording or self._countdown_left:
            return
        if not self.has_dataset:
            self.take_status.setText("Open or create a dataset to record (File > New dataset… or Open dataset…).")
        elif not self.microphone.available:
            self.take_status.setText("No microphone to record from: you can still drop audio files here.")
        else:
            self.take_status.setText("Press Space or the button to record a clip.")

    def open_stream(self) -> None:
        """Keep the stream open while the tab shows, so the meter moves and takes start at once."""
        self.microphone.open()

    def toggle(self) -> None:
        if not self.record_button.isEnabled() and not self.recording:
            return
        if self.recording:
            self.stop()
        elif self._countdown_left:
            self._countdown_timer.stop()
            self._countdown_left = 0
            self.take_status.setText("Countdown cancelled.")
        elif self.countdown.isChecked():
            self._countdown_left = 3
            self.take_status.setText("Recording in 3…")
            self._countdown_timer.start()
        else:
            self.start()

    def _countdown_step(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left <= 0:
            self._countdown_timer.stop()
            self.start()
        else:
            self.take_status.setText(f"Recording in {self._countdown_left}…")

    def start(self) -> None:
        recorder = self.microphone.open()
        if recorder is None:
            self.failed.emit(self.microphone.problem)
            return
        try:
            recorder.max_seconds = self.max_seconds.value()
            recorder.start_take()
        except MicrophoneError as error:
            self.failed.emit(str(error))
            return
        self.record_button.setText("■  Stop  (Space)")
        self.record_button.setStyleSheet(STOP_STYLE)

    def stop(self) -> None:
        raw = self.recorder.stop_take() if self.recorder is not None else np.zeros(0, np.float32)
        self.record_button.setText("●  Record  (Space)")
        self.record_button.setStyleSheet(RECORD_STYLE)
        self.take_recorded.emit(raw)

    def _tick(self) -> None:
        recorder = self.recorder
        if recorder is None or not recorder.is_open:
            self.meter.set_level(-100)
            return
        self.meter.set_level(recorder.level)
        if recorder.recording:
            self.take_status.setText(f"Recording… {recorder.recorded_seconds:.1f} s (Space to stop)")
        elif self.record_button.text().startswith("■"):
            self.stop()  # the recorder stopped itself at the maximum length

    def shutdown(self) -> None:
        self._poll.stop()
        self._countdown_timer.stop()
