"""The Clips panel: one row per classified file, kept until Clear, exportable to CSV."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from intentdesk.core.inference.results import FileResult, write_results_csv
from intentdesk.gui.classify.ranking import OWN_CHECK_TEXT
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.widgets import BusyRow
from intentdesk.gui.common.wording import count

COLUMNS = ("File", "Top intent", "Score", "Second intent", "Transcript", "Time (ms)", "Note")
TOP_COLUMN, SECOND_COLUMN, TRANSCRIPT_COLUMN = 1, 3, 4
FILE_COLUMN_WIDTH = 120  # pixels; the user can drag it wider
# Widths in pixels that rows never change. A label column is as wide as the model's longest label needs,
# at most LABEL_COLUMN_MAX (a longer one is elided; the tooltip has it). What was heard comes right after
# the score, TRANSCRIPT_WIDTH wide: in view at the usual window size, whatever the labels, verdicts and notes.
LABEL_COLUMN_MAX = 180
TRANSCRIPT_WIDTH = 220
UNCERTAIN_NOTE = "uncertain — maybe none of your intents"
SOUND_ONLY_NOTE = "by sound only"


def is_uncertain(result: FileResult, threshold: float) -> bool:
    """The verdict the bars show too: the words model calls it out of scope, or the top score is
    under the tab's "uncertain below" threshold."""
    ranking = result.ranking or []
    return bool(getattr(result, "uncertain", False)) or (bool(ranking) and ranking[0].score < threshold)


def top_cell(label: str, uncertain: bool) -> str:
    """"uncertain (freeze?)" like the Microphone panel's verdict: short, so the file and transcript
    columns keep their room (the full sentence is in the row's tooltip)."""
    return f"uncertain ({label}?)" if uncertain else label


def row_values(result: FileResult, threshold: float = 0.0) -> list[str]:
    """The cells of one result, as the table shows them (the transcript is empty for a sound-only model)."""
    name = Path(result.file).name
    if result.error:
        return [name, "unreadable", "", "", "", "", result.error]  # the reason in Note, not as an intent
    ranking = result.ranking or []
    second = f"{ranking[1].label} ({ranking[1].score:.0%})" if len(ranking) > 1 else ""
    top = top_cell(ranking[0].label, is_uncertain(result, threshold))
    return [name, top, f"{ranking[0].score:.3f}", second, getattr(result, "transcript", None) or "",
            f"{result.latency_ms:.0f}", note_cell(result)]


def note_cell(result: FileResult) -> str:
    """The Note column: the note, and "by sound only" when the model's words part was not used (short,
    so the column stays narrow: why is in the row's tooltip, and in the Model panel when it did not load)."""
    return "; ".join(part for part in (result.note, SOUND_ONLY_NOTE if result.words_problem else "") if part)


class ResultsPanel(QGroupBox):
    """New files add rows below the old ones (nothing is replaced without the user asking: Clear).

    `files_chosen` carries the files picked with Open audio…; `selected` the result of the one row
    picked; `cleared` says the user emptied the table."""

    files_chosen = Signal(list)
    selected = Signal(object)
    cleared = Signal()
    status = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__("Clips", parent)
        self.results: list[FileResult] = []
        self.threshold = 0.0  # the tab's "uncertain below": set_threshold
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)  # the numbers: as wide as they are
        # Texts of any length (names, labels, verdicts, notes) get widths that rows never change, so a row
        # coming in ("uncertain (…?)", a note) never squeezes the transcript; they are elided, tooltips have all.
        for column in (0, TOP_COLUMN, SECOND_COLUMN, TRANSCRIPT_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.Interactive)
        self.table.setColumnWidth(0, FILE_COLUMN_WIDTH)
        self.table.setColumnWidth(TRANSCRIPT_COLUMN, TRANSCRIPT_WIDTH)
        self.set_labels([])
        header.moveSection(TRANSCRIPT_COLUMN, SECOND_COLUMN)  # shown before the second intent; cells keep their order
        header.setStretchLastSection(True)  # the note takes what is left
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.setWordWrap(False)  # one line per clip: a cut text ends in "…", its tooltip has all of it
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.setColumnHidden(TRANSCRIPT_COLUMN, True)  # shown once a model with words gives one
        self.open_button = QPushButton("Open audio…")
        self.open_button.clicked.connect(self.choose_files)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every row (files being classified are dropped too)")
        self.clear_button.clicked.connect(self.clear)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.choose_export)
        self.busy = BusyRow()  # "Classifying 4 of 13 files…" while a batch runs
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.busy, 1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_labels(self, labels: list[str]) -> None:
        """Size the intent columns for the model's labels, in their longest form ("uncertain (label?)",
        "label (100%)"), at most `LABEL_COLUMN_MAX`: from now on no row changes a column's width."""
        metrics = QFontMetrics(self.table.font())
        padding = 3 * metrics.averageCharWidth()
        header = self.table.horizontalHeader()
        for column, form in ((TOP_COLUMN, lambda label: top_cell(label, True)),
                             (SECOND_COLUMN, lambda label: f"{label} (100%)")):
            widest = max([metrics.horizontalAdvance(form(label)) for label in labels]
                         + [header.fontMetrics().horizontalAdvance(COLUMNS[column])])
            self.table.setColumnWidth(column, min(LABEL_COLUMN_MAX, widest + padding))

    def show_progress(self, done: int, total: int) -> None:
        """While a batch runs: which file of how many is being classified, and a bar of those done."""
        if done >= total:
            self.busy.show_busy("")
            return
        what = "the file" if total == 1 else f"{done + 1:,} of {count(total, 'file')}"
        self.busy.show_busy(f"Classifying {what}…", done, total)

    def add(self, result: FileResult) -> None:
        """Append one row; its tooltip gives the full path, the note (a long clip cut short) and why it is
        by sound only when it is."""
        self.results.append(result)
        row = self.table.rowCount()
        self.table.insertRow(row)
        heard = getattr(result, "transcript", None)
        if heard is not None:
            self.table.setColumnHidden(TRANSCRIPT_COLUMN, False)
        uncertain = f"{UNCERTAIN_NOTE}: {OWN_CHECK_TEXT}" if getattr(result, "uncertain", False) else \
            f"{UNCERTAIN_NOTE}: its best score is under {self.threshold:.2f} (the “uncertain below” box)" \
            if is_uncertain(result, self.threshold) else ""
        tip = "\n".join(text for text in (result.file, uncertain, f"Heard: “{heard}”" if heard else "", result.note,
                                          result.words_problem) if text)
        for column, value in enumerate(row_values(result, self.threshold)):
            item = QTableWidgetItem(value)
            item.setToolTip(tip)
            self.table.setItem(row, column, item)
        self._update_buttons()

    def set_threshold(self, threshold: float) -> None:
        """Re-read every row's verdict when the tab's "uncertain below" changes."""
        self.threshold = float(threshold)
        for row, result in enumerate(self.results):
            if not result.error and result.ranking:
                self.table.item(row, 1).setText(top_cell(result.ranking[0].label, is_uncertain(result, self.threshold)))

    def clear(self) -> None:
        self.results = []
        self.busy.show_busy("")
        self.table.setRowCount(0)
        self.table.setColumnHidden(TRANSCRIPT_COLUMN, True)
        self._update_buttons()
        self.cleared.emit()

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Audio to classify", dialogs.start_folder(), dialogs.AUDIO_FILTER)
        if names:
            dialogs.remember(names[0])
            self.files_chosen.emit([Path(name) for name in names])

    def choose_export(self) -> None:
        start = dialogs.start_folder("intents.csv", dialogs.EXPORTS)
        name, _ = QFileDialog.getSaveFileName(self, "Export results", start, "CSV (*.csv)")
        if name:
            dialogs.remember(name, dialogs.EXPORTS)
            self.export_csv(Path(name))

    def export_csv(self, path: Path) -> Path:
        """Write every row to `path` (".csv" added when the typed name has no extension)."""
        verdicts = [replace(r, uncertain=is_uncertain(r, self.threshold)) if r.transcript is not None else r
                    for r in self.results]  # a words model's "uncertain" column says what the table says
        written = write_results_csv(verdicts, path)
        self.status.emit(f"Exported {len(self.results)} result(s) to {written}")
        return written

    def _selection_changed(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) == 1 and (row := rows.pop()) < len(self.results):
            self.selected.emit(self.results[row])

    def _update_buttons(self) -> None:
        for button in (self.clear_button, self.export_button):
            button.setEnabled(bool(self.results))
