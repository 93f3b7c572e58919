"""The table model behind the clip list (file, label, duration, date) and its one-label filter."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from intentdesk.core.audio import io as audio
from intentdesk.core.data.store import Clip, DatasetStore

COLUMNS = ("File", "Label", "Duration (s)", "Date")
LABEL_COLUMN = 1


class ClipTableModel(QAbstractTableModel):
    """One row per clip; durations and dates are read lazily, once per file, as rows are shown."""

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
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section]
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

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        clip = self._clips[index.row()]
        column = index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            if column == 0:
                return clip.name
            if column == 1:
                return clip.label
            duration, date = self._facts_of(clip)
            return f"{duration:.2f}" if column == 2 else date
        if role == Qt.ToolTipRole:
            return clip.file_name
        if role == Qt.UserRole:
            return clip.file_name
        return None


class LabelFilter(QSortFilterProxyModel):
    """Shows one label's clips, or all when the filter is empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._label = ""
        self.setSortRole(Qt.DisplayRole)

    def set_label(self, label: str) -> None:
        self._label = label
        self.invalidateFilter()

    def filterAcceptsRow(self, row, parent) -> bool:
        if not self._label:
            return True
        index = self.sourceModel().index(row, LABEL_COLUMN, parent)
        return self.sourceModel().data(index) == self._label
