"""The table model behind the clip list (file, label, transcript, duration, date) and its one-label filter.

The transcript cell is editable (double-click or F2): what the user types is saved as their
correction (`transcript_by` = "user"), shown with a ✎ mark in italics, and never overwritten by
the recogniser."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFont

from intentdesk.core.audio import io as audio
from intentdesk.core.data.store import Clip, DatasetStore

COLUMNS = ("File", "Label", "Transcript", "Duration (s)", "Date")
LABEL_COLUMN = 1
TRANSCRIPT_COLUMN = 2
BY_USER = "user"
CORRECTED_MARK = "✎ "
# The column header says how to correct a transcript (a newcomer never found the double-click).
TRANSCRIPT_HEADER = "Transcript (double-click to correct)"
TRANSCRIPT_HELP = ("What each clip says. Double-click a transcript (or select it and press F2) to type what is "
                   "really said; your correction is kept, marked ✎, and the speech recogniser never changes it.")


def transcript_of(clip: Clip) -> tuple[str, str]:
    """(text, who wrote it) from the clip's `transcript` and `transcript_by` columns ("" when absent)."""
    return clip.extra.get("transcript", "") or "", clip.extra.get("transcript_by", "") or ""


def transcript_tip(clip: Clip) -> str:
    text, by = transcript_of(clip)
    if by == BY_USER:
        return "Corrected by you: the speech recogniser never overwrites it. Double-click to change it."
    if text or by:
        return f"Heard by the speech recogniser {by or ''}. Double-click to correct it.".replace("  ", " ")
    return "No transcript yet: press Transcribe clips, or double-click to type what is said."


class ClipTableModel(QAbstractTableModel):
    """One row per clip; durations and dates are read lazily, once per file, as rows are shown.

    Editing a transcript cell emits `transcript_typed(file_name, text)`; the panel saves it."""

    transcript_typed = Signal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._store: DatasetStore | None = None
        self._clips: list[Clip] = []
        self._facts: dict[str, tuple[float, str]] = {}  # file_name -> (duration, date), read once

    def set_dataset(self, store: DatasetStore | None) -> None:
        self.beginResetModel()
        self._store = store
        self._clips = store.clips if store is not None else []
        self.endResetModel()

    def refresh(self) -> None:
        self.set_dataset(self._store)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._clips)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation != Qt.Horizontal:
            return None
        if role == Qt.DisplayRole:
            return TRANSCRIPT_HEADER if section == TRANSCRIPT_COLUMN else COLUMNS[section]
        if role == Qt.ToolTipRole and section == TRANSCRIPT_COLUMN:
            return TRANSCRIPT_HELP
        return None

    def _facts_of(self, clip: Clip) -> tuple[float, str]:
        facts = self._facts.get(clip.file_name)
        if facts is None and self._store is not None:
            path = self._store.path_of(clip)
            try:
                date = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            except OSError:
                date = "missing"
            facts = (audio.duration_seconds(path), date)
            self._facts[clip.file_name] = facts
        return facts or (0.0, "")

    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and index.column() == TRANSCRIPT_COLUMN and self._store is not None:
            flags |= Qt.ItemIsEditable
        return flags

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        clip = self._clips[index.row()]
        column = index.column()
        if column == TRANSCRIPT_COLUMN:
            return self._transcript_data(clip, role)
        if role in (Qt.DisplayRole, Qt.EditRole):
            if column == 0:
                return clip.name
            if column == 1:
                return clip.label
            duration, date = self._facts_of(clip)
            return f"{duration:.2f}" if column == 3 else date
        if role == Qt.ToolTipRole:
            return clip.file_name
        if role == Qt.UserRole:
            return clip.file_name
        return None

    def _transcript_data(self, clip: Clip, role):
        text, by = transcript_of(clip)
        if role == Qt.DisplayRole:
            return CORRECTED_MARK + text if by == BY_USER else text
        if role == Qt.EditRole:
            return text
        if role == Qt.ToolTipRole:
            return transcript_tip(clip)
        if role == Qt.FontRole and by == BY_USER:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.UserRole:
            return clip.file_name
        return None

    def setData(self, index, value, role=Qt.EditRole) -> bool:
        if role != Qt.EditRole or not index.isValid() or index.column() != TRANSCRIPT_COLUMN:
            return False
        clip = self._clips[index.row()]
        text = " ".join(str(value).split())
        if text == transcript_of(clip)[0]:
            return False  # the editor closed with nothing changed
        self.transcript_typed.emit(clip.file_name, text)
        return True


class LabelFilter(QSortFilterProxyModel):
    """Shows one label's clips, or all when the filter is empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._label = ""
        self.setSortRole(Qt.DisplayRole)

    def set_label(self, label: str) -> None:
        """Show `label`'s clips: Qt 6.9+ is told the filter changes (`invalidateFilter` is deprecated
        there and warned on every call); Qt 6.8, the oldest allowed, re-filters the rows."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self._label = label
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - PySide6 6.8
            self._label = label
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row, parent) -> bool:
        if not self._label:
            return True
        index = self.sourceModel().index(row, LABEL_COLUMN, parent)
        return self.sourceModel().data(index) == self._label
