"""Label tab: record takes with the microphone, tag them, and curate the dataset's clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.audio import io as audio
from intentdesk.core.audio.microphone import InputDevice, MicrophoneError, Recorder, StreamFactory, play
from intentdesk.core.audio.vad import trim_silence
from intentdesk.core.data.importers import import_label_folders
from intentdesk.core.data.store import DatasetStore, ImportReport
from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.clip_table import ClipTableModel, LabelFilter
from intentdesk.gui.common.jobs import Job
from intentdesk.gui.common.widgets import (
    LevelMeter,
    MessageBar,
    WaveformView,
    accept_file_drags,
    dropped_paths,
    side_by_side,
)

FEW_CLIPS = 5
IMBALANCE_RATIO = 3.0
RATE = 16000


def label_warnings(counts: dict[str, int]) -> list[str]:
    """What a user should fix before training: thin classes and strong imbalance."""
    warnings = []
    few = [f"{label} ({n})" for label, n in counts.items() if n < FEW_CLIPS]
    if few:
        warnings.append(f"fewer than {FEW_CLIPS} clips: {', '.join(few)}")
    if len(counts) >= 2 and min(counts.values()) * IMBALANCE_RATIO < max(counts.values()):
        warnings.append(f"imbalanced: {max(counts, key=counts.get)} has {max(counts.values())} clips, "
                        f"{min(counts, key=counts.get)} only {min(counts.values())}")
    return warnings


class LabelTab(QWidget):
    """Record → see → label → save, plus the clip list. All changes go through `DatasetStore`."""

    dataset_changed = Signal()
    status = Signal(str)

    def __init__(self, list_devices: Callable[[], list[InputDevice]], stream_factory: StreamFactory | None,
                 parent=None) -> None:
        super().__init__(parent)
        self.store: DatasetStore | None = None
        self._list_devices = list_devices
        self._stream_factory = stream_factory
        self.recorder: Recorder | None = None
        self.pending: np.ndarray | None = None
        self._countdown_left = 0
        self._job: Job | None = None
        self.setAcceptDrops(True)
        self._build()
        self._connect_shortcuts()
        self._poll = QTimer(self, interval=50, timeout=self._tick)
        self._poll.start()
        self._countdown_timer = QTimer(self, interval=1000, timeout=self._countdown_step)
        self.refresh_devices()
        self.set_store(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message = MessageBar()
        mic_box = QGroupBox("Microphone")
        mic = QHBoxLayout(mic_box)
        self.device_combo = QComboBox()
        self.device_combo.setMinimumWidth(220)
        self.device_combo.currentIndexChanged.connect(self._device_chosen)
        self.meter = LevelMeter()
        self.max_seconds = QDoubleSpinBox(minimum=1.0, maximum=30.0, value=8.0, suffix=" s max", singleStep=1.0)
        self.countdown = QCheckBox("3-2-1 countdown")
        self.mic_note = QLabel()
        self.mic_note.setStyleSheet("color: #a33;")
        mic.addWidget(self.device_combo)
        mic.addWidget(self.meter, 1)
        mic.addWidget(self.max_seconds)
        mic.addWidget(self.countdown)

        self.record_button = QPushButton("●  Record  (Space)")
        self.record_button.setMinimumHeight(56)
        self.record_button.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.record_button.clicked.connect(self.toggle_recording)
        self.take_status = QLabel("Press Space or the button to record a clip.")

        take_box = QGroupBox("Last take")
        take = QVBoxLayout(take_box)
        self.take_wave = WaveformView(height=110)
        row = QHBoxLayout()
        self.play_take_button = QPushButton("▶ Play")
        self.play_take_button.clicked.connect(lambda: self._play(self.pending))
        self.label_combo = QComboBox(editable=True)
        self.label_combo.setInsertPolicy(QComboBox.NoInsert)
        self.label_combo.setMinimumWidth(200)
        self.label_combo.lineEdit().setPlaceholderText("label, e.g. balance")
        self.label_combo.lineEdit().returnPressed.connect(self.save_take)
        # Keys reach the line edit through the combo (which has the focus) or directly.
        self.label_combo.installEventFilter(self)
        self.label_combo.lineEdit().installEventFilter(self)
        self.save_button = QPushButton("Save  (Enter)")
        self.save_button.clicked.connect(self.save_take)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard_take)
        row.addWidget(self.play_take_button)
        row.addWidget(QLabel("Label:"))
        row.addWidget(self.label_combo, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.discard_button)
        self.key_hint = QLabel()
        self.key_hint.setStyleSheet("color: #666;")
        take.addWidget(self.take_wave)
        take.addLayout(row)
        take.addWidget(self.key_hint)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(mic_box)
        left_layout.addWidget(self.mic_note)
        left_layout.addWidget(self.record_button)
        left_layout.addWidget(self.take_status)
        left_layout.addWidget(take_box)
        left_layout.addStretch(1)

        clips_box = QGroupBox("Clips")
        clips = QVBoxLayout(clips_box)
        filter_row = QHBoxLayout()
        self.filter_combo = QComboBox()
        self.filter_combo.currentIndexChanged.connect(self._filter_changed)
        filter_row.addWidget(QLabel("Show:"))
        filter_row.addWidget(self.filter_combo, 1)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #9a5b00;")
        self.model = ClipTableModel(self)
        self.proxy = LabelFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        # Size columns from the first rows only: measuring every row would read every clip's
        # header (duration) and make opening a large dataset slow.
        self.table.horizontalHeader().setResizeContentsPrecision(30)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.verticalHeader().hide()
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.play_selected())
        self.clip_wave = WaveformView(height=90)
        buttons = QHBoxLayout()
        self.play_clip_button = QPushButton("▶ Play")
        self.play_clip_button.clicked.connect(self.play_selected)
        self.relabel_button = QPushButton("Relabel…")
        self.relabel_button.clicked.connect(self.relabel_selected)
        self.delete_button = QPushButton("Delete (Del)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        for button in (self.play_clip_button, self.relabel_button, self.delete_button, self.undo_button):
            buttons.addWidget(button)
        clips.addLayout(filter_row)
        clips.addWidget(self.counts_label)
        clips.addWidget(self.warning_label)
        clips.addWidget(self.table, 1)
        clips.addWidget(self.clip_wave)
        clips.addLayout(buttons)
        hint = QLabel("Drop audio files or folders here to add them.")
        hint.setStyleSheet("color: #666;")
        clips.addWidget(hint)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(side_by_side(left, clips_box), 1)

    def eventFilter(self, watched, event) -> bool:
        """Digits 1-9 in the label field pick a label while the field is empty or all selected
        (right after a take), and type normally once the user is writing a label."""
        if watched in (self.label_combo, self.label_combo.lineEdit()) and event.type() == QEvent.KeyPress:
            line = self.label_combo.lineEdit()
            key = event.key()
            untouched = not line.text() or line.selectedText() == line.text()
            if Qt.Key_1 <= key <= Qt.Key_9 and untouched and self.store is not None \
                    and key - Qt.Key_0 <= len(self.store.labels()):
                self.pick_label(key - Qt.Key_0)
                line.selectAll()
                return True
        return super().eventFilter(watched, event)

    def _connect_shortcuts(self) -> None:
        def shortcut(keys, slot):
            item = QShortcut(QKeySequence(keys), self, context=Qt.WidgetWithChildrenShortcut)
            item.activated.connect(slot)
            return item

        shortcut(Qt.Key_Space, self.toggle_recording)
        shortcut(QKeySequence.Delete, self.delete_selected)
        shortcut(QKeySequence.Undo, self.undo)
        shortcut(Qt.Key_Return, self.save_take)
        shortcut(Qt.Key_Enter, self.save_take)
        for n in range(1, 10):
            shortcut(getattr(Qt, f"Key_{n}"), lambda n=n: self.pick_label(n))

    # ------------------------------------------------------------------ dataset
    def set_store(self, store: DatasetStore | None) -> None:
        self.store = store
        self.model.set_store(store)
        self.refresh()

    def refresh(self) -> None:
        self.model.refresh()
        self.clip_wave.set_wave(None)  # the reset model has no selection any more
        counts = self.store.label_counts() if self.store is not None else {}
        labels = list(counts)
        typed = self.label_combo.currentText()
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItems(labels)
        self.label_combo.setEditText(typed)
        self.label_combo.blockSignals(False)
        current = self.filter_combo.currentData() or ""
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        self.filter_combo.addItem(f"All labels ({sum(counts.values())})", "")
        for label, n in counts.items():
            self.filter_combo.addItem(f"{label} ({n})", label)
        self.filter_combo.setCurrentIndex(max(0, self.filter_combo.findData(current)))
        self.filter_combo.blockSignals(False)
        self.proxy.set_label(self.filter_combo.currentData() or "")
        if self.store is None:
            self.counts_label.setText("No dataset open: File > New dataset… or Open dataset…")
        elif not counts:
            self.counts_label.setText("No clips yet: record one, or drop audio files here.")
        else:
            self.counts_label.setText(" · ".join(f"{label} {n}" for label, n in counts.items()))
        warnings = label_warnings(counts)
        self.warning_label.setText("⚠ " + "; ".join(warnings) if warnings else "")
        self.key_hint.setText("Keys: " + "  ".join(f"{i + 1}={label}" for i, label in enumerate(labels[:9]))
                              if labels else "Type a label for the take and press Enter.")
        self.undo_button.setEnabled(self.store is not None and self.store.can_undo())
        has_store = self.store is not None
        for widget in (self.record_button, self.table, self.relabel_button, self.delete_button):
            widget.setEnabled(has_store and (widget is not self.record_button or self.recorder is not None))
        self._update_take_buttons()

    def _require_store(self) -> DatasetStore | None:
        if self.store is None:
            self.message.show_message("Open or create a dataset first (File menu).", "warning")
        return self.store

    # ------------------------------------------------------------------ microphone
    def refresh_devices(self) -> None:
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        try:
            devices = self._list_devices()
        except MicrophoneError as error:
            devices = []
            self.mic_note.setText(f"Microphone unavailable: {error}.")
        else:
            self.mic_note.setText("")
        for device in devices:
            self.device_combo.addItem(device.name, device.index)
        self.device_combo.setEnabled(bool(devices))
        self.device_combo.blockSignals(False)
        self._device_chosen()

    def _device_chosen(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        if self.device_combo.count() == 0:
            self.record_button.setEnabled(False)
            return
        index = self.device_combo.currentData()
        self.recorder = Recorder(RATE, None if index is None or index < 0 else index, self._stream_factory,
                                 self.max_seconds.value())
        self.record_button.setEnabled(self.store is not None)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._open_stream()

    def _open_stream(self) -> None:
        if self.recorder is None or self.recorder.is_open:
            return
        try:
            self.recorder.open()
        except MicrophoneError as error:
            self.mic_note.setText(f"Microphone unavailable: {error}")
            self.record_button.setEnabled(False)

    def shutdown(self) -> None:
        self._poll.stop()
        if self.recorder is not None:
            self.recorder.close()

    # ------------------------------------------------------------------ recording
    def toggle_recording(self) -> None:
        if self.recorder is None or self._require_store() is None:
            return
        if self.recorder.recording:
            self.stop_recording()
        elif self._countdown_left:
            self._countdown_timer.stop()
            self._countdown_left = 0
            self.take_status.setText("Countdown cancelled.")
        elif self.countdown.isChecked():
            self._countdown_left = 3
            self.take_status.setText("Recording in 3…")
            self._countdown_timer.start()
        else:
            self.start_recording()

    def _countdown_step(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left <= 0:
            self._countdown_timer.stop()
            self.start_recording()
        else:
            self.take_status.setText(f"Recording in {self._countdown_left}…")

    def start_recording(self) -> None:
        try:
            self.recorder.max_seconds = self.max_seconds.value()
            self.recorder.start_take()
        except MicrophoneError as error:
            self.message.show_message(str(error), "error")
            return
        self.record_button.setText("■  Stop  (Space)")
        self.record_button.setStyleSheet("font-size: 18px; font-weight: bold; background: #e04848; color: white;")

    def stop_recording(self) -> None:
        raw = self.recorder.stop_take()
        self.record_button.setText("●  Record  (Space)")
        self.record_button.setStyleSheet("font-size: 18px; font-weight: bold;")
        self._take_finished(raw)

    def _take_finished(self, raw: np.ndarray) -> None:
        trimmed = trim_silence(raw, RATE) if len(raw) else raw
        try:
            audio.check_array(trimmed, RATE, "the take", audio.AudioLimits(max_seconds=None))
        except IntentDeskError as error:
            self.pending = None
            self.take_wave.set_wave(None)
            self.take_status.setText(f"Take discarded: {error.problem if hasattr(error, 'problem') else error}.")
            self._update_take_buttons()
            return
        self.pending = trimmed
        self.take_wave.set_wave(trimmed, RATE)
        self.take_status.setText(f"Take: {len(trimmed) / RATE:.2f} s (raw {len(raw) / RATE:.2f} s). "
                                 "Choose its label and press Enter.")
        self._update_take_buttons()
        self.label_combo.setFocus()
        self.label_combo.lineEdit().selectAll()

    def _tick(self) -> None:
        recorder = self.recorder
        if recorder is None or not recorder.is_open:
            self.meter.set_level(-100)
            return
        self.meter.set_level(recorder.level)
        if recorder.recording:
            self.take_status.setText(f"Recording… {recorder.recorded_seconds:.1f} s (Space to stop)")
        elif self.record_button.text().startswith("■"):
            self.stop_recording()  # the recorder stopped itself at the maximum length

    def _update_take_buttons(self) -> None:
        has_take = self.pending is not None
        for widget in (self.play_take_button, self.save_button, self.discard_button):
            widget.setEnabled(has_take)

    def pick_label(self, number: int) -> None:
        labels = self.store.labels() if self.store is not None else []
        if number <= len(labels):
            self.label_combo.setCurrentText(labels[number - 1])

    def save_take(self) -> None:
        if self.pending is None or self._require_store() is None:
            return
        label = self.label_combo.currentText().strip()
        if not label:
            self.message.show_message("Type or choose a label for the take first.", "warning", 4000)
            return
        try:
            clip = self.store.add_array(self.pending, RATE, label)
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            return
        self.pending = None
        self.take_wave.set_wave(None)
        self.take_status.setText(f"Saved {clip.name} as “{label}”. Space records the next take.")
        self.refresh()
        self.label_combo.setCurrentText(label)
        self.dataset_changed.emit()
        self.status.emit(f"Saved {clip.file_name}")
        self.record_button.setFocus()

    def discard_take(self) -> None:
        self.pending = None
        self.take_wave.set_wave(None)
        self.take_status.setText("Take discarded.")
        self._update_take_buttons()

    def _play(self, samples: np.ndarray | None, rate: int = RATE) -> None:
        if samples is None:
            return
        try:
            play(samples, rate)
        except MicrophoneError as error:
            self.message.show_message(str(error), "error", 6000)

    # ------------------------------------------------------------------ clip list
    def selected_file_names(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows()
        return [self.proxy.data(index, Qt.UserRole) for index in rows]

    def _selection_changed(self) -> None:
        names = self.selected_file_names()
        if len(names) == 1 and self.store is not None:
            try:
                wave, rate = self._load_clip(names[0])
            except IntentDeskError:
                wave, rate = None, RATE
            self.clip_wave.set_wave(wave, rate)
        else:
            self.clip_wave.set_wave(None)

    def _load_clip(self, file_name: str) -> tuple[np.ndarray, int]:
        return audio.load_audio(self.store.root / file_name, limits=audio.AudioLimits(max_seconds=None))

    def _filter_changed(self) -> None:
        self.proxy.set_label(self.filter_combo.currentData() or "")

    def play_selected(self) -> None:
        names = self.selected_file_names()
        if names and self.store is not None:
            try:
                wave, rate = self._load_clip(names[0])
            except IntentDeskError as error:
                self.message.show_message(str(error), "error")
                return
            self._play(wave, rate)

    def ask_label(self, title: str, text: str) -> str | None:
        """Modal label prompt (tests replace this method)."""
        labels = self.store.labels() if self.store is not None else []
        value, ok = QInputDialog.getItem(self, title, text, labels, 0, True)
        return value.strip() if ok and value.strip() else None

    def relabel_selected(self) -> None:
        names = self.selected_file_names()
        if not names or self._require_store() is None:
            return
        label = self.ask_label("Relabel", f"New label for {len(names)} clip(s):")
        if label is None:
            return
        try:
            self.store.relabel(names, label)
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            return
        self.refresh()
        self.dataset_changed.emit()
        self.message.show_message(f"Relabelled {len(names)} clip(s) as “{label}”.", "info", 4000)

    def delete_selected(self) -> None:
        names = self.selected_file_names()
        if not names or self._require_store() is None:
            return
        try:
            self.store.delete(names)
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            return
        self.refresh()
        self.dataset_changed.emit()
        self.message.show_message(f"Deleted {len(names)} clip(s). Ctrl+Z brings them back.", "info", 6000)

    def undo(self) -> None:
        if self.store is None or not self.store.can_undo():
            return
        restored = self.store.undo_delete()
        self.refresh()
        self.dataset_changed.emit()
        self.message.show_message(f"Restored {len(restored)} clip(s).", "info", 4000)

    # ------------------------------------------------------------------ drag and drop / import
    def dragEnterEvent(self, event) -> None:
        accept_file_drags(event)

    def dropEvent(self, event) -> None:
        self.add_paths(dropped_paths(event))

    def add_paths(self, paths: list[Path]) -> None:
        """Folders bring their labels (sub-folder names); loose files get one label asked for."""
        if not paths or self._require_store() is None:
            return
        folders = [p for p in paths if p.is_dir()]
        files = [p for p in paths if p.is_file()]
        items: list[tuple[Path, str, dict]] = []
        label = None
        loose_folders = [f for f in folders if not any(sub.is_dir() for sub in f.iterdir())]
        if files or loose_folders:
            label = self.ask_label("Label for dropped audio", f"Label for {len(files) + len(loose_folders)} "
                                   "dropped file(s)/folder(s):")
            if label is None:
                return
            items += [(f, label, {}) for f in files]
        store = self.store

        def work(_emit, _cancel) -> ImportReport:
            report = store.add_files(items) if items else ImportReport()
            for folder in folders:
                if folder in loose_folders:
                    sub = store.add_files([(f, label, {}) for f in sorted(folder.rglob("*"))
                                           if f.is_file() and audio.is_audio_file(f)])
                else:
                    sub = import_label_folders(store, folder)
                report.added += sub.added
                report.skipped += sub.skipped
            return report

        self.run_import(work)

    def run_import(self, work) -> None:
        self.setEnabled(False)
        self.status.emit("Importing…")
        self._job = Job(work, self)
        self._job.succeeded.connect(self._import_done)
        self._job.failed.connect(self._import_failed)
        self._job.start()

    def _import_done(self, report: ImportReport) -> None:
        self.setEnabled(True)
        self.refresh()
        self.dataset_changed.emit()
        text = f"Added {len(report.added)} clip(s)."
        if report.skipped:
            text += f" Skipped {len(report.skipped)} file(s) that could not be read:\n" + "\n".join(report.skipped[:10])
            self.message.show_message(text, "warning" if report.added else "error")
        else:
            self.message.show_message(text, "info", 5000)
        self.status.emit(text.splitlines()[0])

    def _import_failed(self, message: str) -> None:
        self.setEnabled(True)
        self.refresh()
        self.message.show_message(message, "error")
        self.status.emit("Import failed")
