"""The dataset's clips: filter by label, counts and warnings, play, relabel, delete, undo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
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
from intentdesk.core.data.health import label_warnings
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.common.widgets import MessageBar, WaveformView
from intentdesk.gui.label.clip_table import BY_USER, TRANSCRIPT_COLUMN, ClipTableModel, LabelFilter
from intentdesk.gui.label.history import EditHistory
from intentdesk.gui.label.label_keys import LabelKeys
from intentdesk.gui.label.label_names import LabelNames


class ClipListPanel(QGroupBox):
    """Every edit goes through `EditHistory`, so Ctrl+Z undoes relabels as well as deletes."""

    edited = Signal()  # the dataset changed here
    play_requested = Signal(object, int)  # samples, rate

    def __init__(self, keys: LabelKeys, label_names: LabelNames, message: MessageBar, footer: QWidget,
                 parent=None) -> None:
        super().__init__("Clips", parent)
        self.store: DatasetStore | None = None
        self.keys = keys
        self.label_names = label_names
        self.message = message
        self.history = EditHistory()
        self._build(footer)

    def _build(self, footer: QWidget) -> None:
        self.filter_combo = QComboBox()
        self.filter_combo.currentIndexChanged.connect(self._filter_changed)
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel("Show:"))
        filter_row.addWidget(self.filter_combo, 1)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #9a5b00;")
        self._build_table()
        self.clip_wave = WaveformView(height=90)
        buttons = QHBoxLayout()
        self.play_clip_button = self._button("▶ Play", self.play_selected, buttons)
        self.relabel_button = self._button("Relabel…", self.relabel_selected, buttons)
        self.delete_button = self._button("Delete (Del)", self.delete_selected, buttons)
        self.undo_button = self._button("Undo (Ctrl+Z)", self.undo, buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(filter_row)
        for widget, stretch in ((self.counts_label, 0), (self.warning_label, 0), (self.table, 1),
                                (self.clip_wave, 0)):
            layout.addWidget(widget, stretch)
        layout.addLayout(buttons)
        layout.addWidget(footer)

    def _button(self, text: str, slot, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    def _build_table(self) -> None:
        self.model = ClipTableModel(self)
        # Queued: the save re-reads the table, which must not happen while its editor is committing.
        self.model.transcript_typed.connect(self.save_transcript, Qt.QueuedConnection)
        self.proxy = LabelFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        header = self.table.horizontalHeader()
        # Size columns from the first rows only: measuring every row would read every clip's
        # header (duration) and make opening a large dataset slow.
        header.setResizeContentsPrecision(30)
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(TRANSCRIPT_COLUMN, QHeaderView.Stretch)  # the one column that gives way
        # headings from the left, so one that gives way loses its end ("Transcript (double-click to co…"), not
        # both ends ("ranscript (double-click to correc")
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.table.verticalHeader().hide()
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        # Double-click plays a clip, except on its transcript, which it opens for correcting.
        self.table.doubleClicked.connect(lambda index: index.column() != TRANSCRIPT_COLUMN and self.play_selected())

    # ------------------------------------------------------------------ showing
    def set_dataset(self, store: DatasetStore | None) -> None:
        self.store = store
        self.history.clear()
        self.model.set_dataset(store)

    def refresh(self, counts: dict[str, int]) -> None:
        """Show the dataset again after a change (`counts` from `store.label_counts()`)."""
        self.model.refresh()
        self.clip_wave.set_wave(None)  # the reset model has no selection any more
        self._fill_filter(counts)
        if self.store is None:
            self.counts_label.setText("No dataset open: File > New dataset… or Open dataset…")
        elif not counts:
            self.counts_label.setText("No clips yet: record one, or drop audio files here.")
        else:
            self.counts_label.setText(" · ".join(f"{self._numbered(label)} {counts[label]}"
                                                 for label in self.keys.ordered() if label in counts))
        warnings = label_warnings(counts)
        self.warning_label.setText("⚠ " + "; ".join(warnings) if warnings else "")
        self.table.setEnabled(self.store is not None)
        self._update_buttons()
        self.undo_button.setEnabled(self.history.can_undo(self.store))

    def _numbered(self, label: str) -> str:
        number = self.keys.number_of(label)
        return f"[{number}] {label}" if number is not None else label

    def _fill_filter(self, counts: dict[str, int]) -> None:
        current = self.filter_combo.currentData() or ""
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        self.filter_combo.addItem(f"All labels ({sum(counts.values())})", "")
        for label, n in counts.items():
            self.filter_combo.addItem(f"{label} ({n})", label)
        self.filter_combo.setCurrentIndex(max(0, self.filter_combo.findData(current)))
        self.filter_combo.blockSignals(False)
        self.proxy.set_label(self.filter_combo.currentData() or "")

    def _filter_changed(self) -> None:
        self.proxy.set_label(self.filter_combo.currentData() or "")

    def selected_file_names(self) -> list[str]:
        return [self.proxy.data(index, Qt.UserRole) for index in self.table.selectionModel().selectedRows()]

    def _update_buttons(self) -> None:
        """Play, Relabel and Delete act on the selected clips: greyed while none is selected (an empty
        dataset has none to select)."""
        chosen = self.store is not None and bool(self.table.selectionModel().selectedRows())
        for button in (self.relabel_button, self.delete_button, self.play_clip_button):
            button.setEnabled(chosen)

    def _selection_changed(self) -> None:
        self._update_buttons()
        names = self.selected_file_names()
        wave, rate = None, audio.SAMPLE_RATE
        if len(names) == 1 and self.store is not None:
            try:
                wave, rate = self._load_clip(names[0])
            except IntentDeskError:
                wave = None
        self.clip_wave.set_wave(wave, rate)

    def _load_clip(self, file_name: str) -> tuple[np.ndarray, int]:
        return audio.load_audio(self.store.root / file_name, limits=audio.AudioLimits(max_seconds=None))

    def play_selected(self) -> None:
        names = self.selected_file_names()
        if names and self.store is not None:
            try:
                wave, rate = self._load_clip(names[0])
            except IntentDeskError as error:
                self.message.show_message(str(error), "error")
                return
            self.play_requested.emit(wave, rate)

    # ------------------------------------------------------------------ editing
    def save_transcript(self, file_name: str, text: str) -> None:
        """The user's own transcript of one clip: kept as a correction the recogniser never overwrites."""
        if self.store is None:
            return
        name = file_name.rsplit("/", 1)[-1]
        self._edit(lambda: self.store.texts.set_transcripts({file_name: text}, by=BY_USER),
                   f"Transcript of {name} saved as your correction: the recogniser will not change it.")

    def ask_label(self, title: str, text: str, current: str = "") -> str | None:
        """Modal label prompt starting at `current`, or empty (tests replace this method): a prompt that
        started on the first label put a whole import under it at one press of Enter."""
        labels = self.keys.ordered()
        if current not in labels:
            labels = ["", *labels]
        value, ok = QInputDialog.getItem(self, title, text, labels, labels.index(current) if current in labels else 0,
                                         True)
        return value.strip() if ok and value.strip() else None

    def relabel_selected(self) -> None:
        names = self.selected_file_names()
        if not names or self.store is None:
            return
        current = self.store.find(names[0]).label
        label = self.ask_label("Relabel", f"New label for {len(names)} clip(s):", current)
        label = self.label_names.settle(label) if label is not None else None
        if label is None:
            return
        self._edit(lambda: self.history.relabel(self.store, names, label),
                   f"Relabelled {len(names)} clip(s) as “{label}”. Ctrl+Z undoes it.")

    def delete_selected(self) -> None:
        names = self.selected_file_names()
        if names and self.store is not None:
            self._edit(lambda: self.history.delete(self.store, names),
                       f"Deleted {len(names)} clip(s). Ctrl+Z brings them back.")

    def undo(self) -> None:
        if self.history.can_undo(self.store):
            self._edit(lambda: self.history.undo(self.store))

    def _edit(self, change, done: str | None = None) -> None:
        """Run one change; a refusal (read-only dataset, edited trash...) is shown, never raised."""
        try:
            result = change()
        except IntentDeskError as error:
            self.message.show_message(str(error), "error")
            self.edited.emit()  # the store may have re-read the dataset: show what is there
            return
        self.edited.emit()
        self.message.show_message(done or str(result), "info", 5000)
