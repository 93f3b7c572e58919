"""The last take: its waveform, Play, and the label field where Enter saves and keys 1-9 pick a label."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from intentdesk.core.audio import io as audio
from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.vad import trim_silence
from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.common.widgets import WaveformView
from intentdesk.gui.label.label_keys import LabelKeys


class TakePanel(QGroupBox):
    """Holds the take waiting for a label (`pending`); `save_requested` asks the tab to store it."""

    save_requested = Signal()
    play_requested = Signal(object)  # np.ndarray at RATE
    note = Signal(str)  # what happened to the take, for the line under the Record button

    def __init__(self, keys: LabelKeys, parent=None) -> None:
        super().__init__("Last take", parent)
        self.keys = keys
        self.pending: np.ndarray | None = None
        self._build()
        self.set_pending(None)

    def _build(self) -> None:
        self.take_wave = WaveformView(height=110)
        self.play_take_button = QPushButton("▶ Play")
        self.play_take_button.clicked.connect(lambda: self.play_requested.emit(self.pending))
        self.label_combo = QComboBox(editable=True)
        self.label_combo.setInsertPolicy(QComboBox.NoInsert)
        self.label_combo.setMinimumWidth(200)
        self.label_combo.lineEdit().setPlaceholderText("label, e.g. balance")
        self.label_combo.lineEdit().returnPressed.connect(self.save_requested)
        # Keys reach the line edit through the combo (which has the focus) or directly.
        self.label_combo.installEventFilter(self)
        self.label_combo.lineEdit().installEventFilter(self)
        self.save_button = QPushButton("Save  (Enter)")
        self.save_button.clicked.connect(self.save_requested)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard)
        row = QHBoxLayout()
        for widget, stretch in ((self.play_take_button, 0), (QLabel("Label:"), 0), (self.label_combo, 1),
                                (self.save_button, 0), (self.discard_button, 0)):
            row.addWidget(widget, stretch)
        self.key_hint = QLabel()
        self.key_hint.setStyleSheet("color: #666;")
        self.key_hint.setWordWrap(True)  # many labels wrap here rather than widen the whole column
        layout = QVBoxLayout(self)
        layout.addWidget(self.take_wave)
        layout.addLayout(row)
        layout.addWidget(self.key_hint)

    def show_labels(self) -> None:
        """The labels in key order, each item showing its key; what the user typed stays."""
        typed = self.label_combo.currentText()
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        for label in self.keys.ordered():
            self.label_combo.addItem(label)
            number = self.keys.number_of(label)
            if number is not None:
                self.label_combo.setItemData(self.label_combo.count() - 1, f"key {number}", Qt.ToolTipRole)
        self.label_combo.setEditText(typed)
        self.label_combo.blockSignals(False)
        self.key_hint.setText(self.keys.hint())

    def eventFilter(self, watched, event) -> bool:
        """Digits 1-9 in the label field pick a label while the field is empty or all selected
        (right after a take), and type normally once the user is writing a label."""
        if watched in (self.label_combo, self.label_combo.lineEdit()) and event.type() == QEvent.KeyPress:
            line = self.label_combo.lineEdit()
            key = event.key()
            untouched = not line.text() or line.selectedText() == line.text()
            if Qt.Key_1 <= key <= Qt.Key_9 and untouched and self.pick_label(key - Qt.Key_0):
                line.selectAll()
                return True
        return super().eventFilter(watched, event)

    def pick_label(self, number: int) -> bool:
        label = self.keys.label_for(number)
        if label is not None:
            self.label_combo.setCurrentText(label)
        return label is not None

    def label(self) -> str:
        return self.label_combo.currentText().strip()

    def take_finished(self, raw: np.ndarray) -> None:
        """Trim the silence around a raw take and offer it for labelling (or say why not)."""
        trimmed = trim_silence(raw, RATE) if len(raw) else raw
        try:
            audio.check_array(trimmed, RATE, "the take", audio.AudioLimits(max_seconds=None))
        except IntentDeskError as error:
            self.set_pending(None)
            self.note.emit(f"Take discarded: {getattr(error, 'problem', error)}.")
            return
        self.set_pending(trimmed)
        self.note.emit(f"Take: {len(trimmed) / RATE:.2f} s (raw {len(raw) / RATE:.2f} s). "
                       "Choose its label and press Enter.")
        self.label_combo.setFocus()
        self.label_combo.lineEdit().selectAll()

    def set_pending(self, samples: np.ndarray | None) -> None:
        self.pending = samples
        self.take_wave.set_wave(samples, RATE)
        for widget in (self.play_take_button, self.save_button, self.discard_button):
            widget.setEnabled(samples is not None)

    def discard(self) -> None:
        self.set_pending(None)
        self.note.emit("Take discarded.")
