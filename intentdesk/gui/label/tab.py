"""The Label tab: wires the recorder, take, clip list and import panels to one dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QGroupBox, QLabel, QVBoxLayout, QWidget

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import MicrophoneError
from intentdesk.core.data.store import DatasetStore, ImportReport
from intentdesk.core.errors import IntentDeskError, first_line
from intentdesk.gui.common.jobs import stop_jobs
from intentdesk.gui.common.microphone import Microphone, play_sound
from intentdesk.gui.common.widgets import MessageBar, accept_file_drags, dropped_paths, side_by_side
from intentdesk.gui.label.clip_list import ClipListPanel
from intentdesk.gui.label.importing import ImportStrip, ImportWork, drop_work, needs_label, report_text, source_work
from intentdesk.gui.label.label_keys import LabelKeys
from intentdesk.gui.label.label_names import LabelNames
from intentdesk.gui.label.phrases_panel import PhrasesPanel
from intentdesk.gui.label.recorder_panel import RecorderPanel
from intentdesk.gui.label.take_panel import TakePanel
from intentdesk.gui.label.transcribing import TranscribeStrip


class LabelTab(QWidget):
    """Record → see → label → save, plus the clip list. All changes go through `DatasetStore`."""

    dataset_changed = Signal()
    status = Signal(str)

    def __init__(self, microphone: Microphone, parent=None) -> None:
        super().__init__(parent)
        self.store: DatasetStore | None = None
        self.keys = LabelKeys()
        self.label_names = LabelNames(self, self.keys.ordered)
        self.message = MessageBar()
        self.recorder_panel = RecorderPanel(microphone)
        self.take = TakePanel(self.keys)
        self.importer = ImportStrip()
        self.clips = ClipListPanel(self.keys, self.label_names, self.message, self.importer)
        self.transcriber = TranscribeStrip()
        self.phrases = PhrasesPanel()
        self._layout()
        self._connect()
        self._connect_shortcuts()
        self.setAcceptDrops(True)
        self.set_dataset(None)

    def _layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.recorder_panel, self.take, self._words_box()):
            column.addWidget(widget)
        column.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(side_by_side(left, self.clips), 1)

    def _words_box(self) -> QGroupBox:
        """Transcripts (what each clip says) and typed example phrases: what training with words learns from."""
        box = QGroupBox("Words: transcripts and example phrases")
        column = QVBoxLayout(box)
        column.addWidget(self.transcriber)
        title = QLabel("<b>Example phrases</b> (typed, not recorded)")
        title.setToolTip(self.phrases.toolTip())
        column.addWidget(title)
        column.addWidget(self.phrases)
        return box

    def _connect(self) -> None:
        self.recorder_panel.take_recorded.connect(self.take.take_finished)
        self.recorder_panel.failed.connect(lambda text: self.message.show_message(text, "error"))
        self.take.note.connect(self.recorder_panel.take_status.setText)
        self.take.save_requested.connect(self.save_take)
        self.take.play_requested.connect(self._play)
        self.clips.play_requested.connect(self._play)
        self.clips.edited.connect(self._edited)
        self.phrases.changed.connect(self.dataset_changed)  # the Train tab counts intents typed only
        self.importer.finished.connect(self._import_done)
        self.importer.failed.connect(self._import_failed)
        self.transcriber.finished.connect(self._transcribed)
        self.transcriber.failed.connect(lambda text: self.message.show_message(text, "error"))
        self.phrases.message.connect(lambda text, kind: self.message.show_message(text, kind, 0 if kind == "error"
                                                                                  else 4000))

    def _connect_shortcuts(self) -> None:
        keys = [(Qt.Key_Space, self.toggle_recording), (QKeySequence.Delete, self.clips.delete_selected),
                (QKeySequence.Undo, self.clips.undo), (Qt.Key_Return, self._enter), (Qt.Key_Enter, self._enter)]
        keys += [(getattr(Qt, f"Key_{n}"), lambda n=n: self.take.pick_label(n)) for n in range(1, 10)]
        for sequence, slot in keys:
            QShortcut(QKeySequence(sequence), self, context=Qt.WidgetWithChildrenShortcut).activated.connect(slot)

    # ------------------------------------------------------------------ dataset
    def set_dataset(self, store: DatasetStore | None) -> None:
        self.store = store
        self.keys.reset(store)
        self.clips.set_dataset(store)
        self.transcriber.set_dataset(store)
        self.phrases.set_dataset(store)
        self.recorder_panel.set_has_dataset(store is not None)
        self.refresh()

    def refresh(self) -> None:
        counts = self.store.label_counts() if self.store is not None else {}
        self.keys.update(list(counts))
        self.take.show_labels()
        self.clips.refresh(counts)
        self.transcriber.update_button()
        self.phrases.set_labels(list(counts))

    def _edited(self) -> None:
        self.refresh()
        self.dataset_changed.emit()

    def _require_store(self) -> DatasetStore | None:
        if self.store is None:
            self.message.show_message("Open or create a dataset first (File menu).", "warning")
        return self.store

    def _transcribed(self, count: int) -> None:
        if count:
            self.refresh()  # the new transcripts in the clip table
            self.status.emit(f"{count} clip(s) transcribed")

    # ------------------------------------------------------------------ takes
    @property
    def pending(self) -> np.ndarray | None:
        return self.take.pending

    def toggle_recording(self) -> None:
        if self._require_store() is not None:
            self.recorder_panel.toggle()

    def _enter(self) -> None:
        """Enter adds the typed phrase while its field has the focus, ends the editing of a transcript
        in the clip table (its editor commits when it loses the focus); anywhere else it saves the take."""
        focus, table = QApplication.focusWidget(), self.clips.table
        if self.phrases.edit.hasFocus():
            self.phrases.add_typed()
        elif focus is not None and focus is not table and table.isAncestorOf(focus):
            table.setFocus()
        else:
            self.save_take()

    def save_take(self) -> None:
        if self.take.pending is None or self._require_store() is None:
            return
        if not self.take.label():
            self.message.show_message("Type or choose a label for the take first.", "warning", 4000)
            return
        label = self.label_names.settle(self.take.label())
        if label is None:  # "Did you mean …?" answered Cancel: back to the label field
            self.take.label_combo.setFocus()
            return
        try:
            clip = self.store.add_array(self.take.pending, RATE, label)
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            return
        self.take.set_pending(None)
        self.recorder_panel.take_status.setText(f"Saved {clip.name} as “{label}”. Space records the next take.")
        self._edited()
        self.take.label_combo.setCurrentText(label)
        self.status.emit(f"Saved {clip.file_name}")
        self.transcriber.clips_added([clip.file_name])
        self._focus_for_keys()

    def _play(self, samples: np.ndarray | None, rate: int = RATE) -> None:
        if samples is None:
            return
        try:
            play_sound(samples, rate)
        except MicrophoneError as error:
            self.message.show_message(str(error), "error", 6000)

    # ------------------------------------------------------------------ import
    def dragEnterEvent(self, event) -> None:
        accept_file_drags(event)

    def dropEvent(self, event) -> None:
        self.add_paths(dropped_paths(event))

    def add_paths(self, paths: list[Path], how: str = "dropped") -> None:
        """Folders bring their labels (their label folders' names, or their own name: `balance/` holds
        balance clips); loose files get one label asked for. `how` they came: "dropped" or "chosen"."""
        if not paths or self._require_store() is None:
            return
        label = None
        if needs_label(paths):
            label = self.clips.ask_label(f"Label for {how} audio", f"Intent (label) for the {len(paths)} {how} "
                                         f"item(s):")
            label = self.label_names.settle(label) if label is not None else None
            if label is None:
                return
        self.run_import(f"Importing {len(paths)} {how} item(s)…", drop_work(self.store, paths, label))

    def import_source(self, source: str, config: str | None = None) -> None:
        """File > Import: a folder, another dataset, or a hub dataset id."""
        if self._require_store() is None:
            return
        try:
            work, hub = source_work(self.store, source, config)
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            return
        what = f"Downloading {source} from the Hugging Face hub…" if hub else f"Importing {source}…"
        self.run_import(what, work, cancellable=hub)

    def run_import(self, what: str, work: ImportWork, cancellable: bool = False) -> None:
        if self.importer.busy:
            self.message.show_message("An import is still running; wait for it or cancel it first.", "warning")
            return
        self.status.emit(what)
        self.importer.start(what, work, cancellable)

    def _import_done(self, report: ImportReport) -> None:
        self._edited()
        self.transcriber.clips_added([clip.file_name for clip in report.added])  # none added: nothing to do
        text, kind = report_text(report)
        self.message.show_message(text, kind, 5000 if kind == "info" else 0)
        self.status.emit(first_line(text))
        self._focus_for_keys()

    def _focus_for_keys(self) -> None:
        """Put the focus back inside the tab, so Space, Del and 1-9 work without a click first."""
        button = self.recorder_panel.record_button
        (button if button.isEnabled() else self.clips.table).setFocus()

    def _import_failed(self, message: str) -> None:
        self.refresh()
        self.message.show_message(message, "info" if message.startswith("Import cancelled") else "error")
        self.status.emit(first_line(message))
        self._focus_for_keys()

    # ------------------------------------------------------------------ lifetime
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.recorder_panel.open_stream()

    def shutdown(self) -> None:
        self.recorder_panel.shutdown()
        self.transcriber.shutdown()
        stop_jobs(self.importer)
