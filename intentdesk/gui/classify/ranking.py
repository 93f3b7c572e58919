"""The ranking of one clip as bars: which clip it is, the verdict, a note, every label best first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from intentdesk.core.inference.results import Prediction

HEADLINE_STYLE = "font-size: 18px; font-weight: bold;"
SURE_COLOUR = "#1d6b35"
UNCERTAIN_COLOUR = "#9a5b00"
NO_MODEL_TEXT = "No model yet: train one in the Train tab, or choose a model folder above."
READY_TEXT = "Drop audio files here, open them, or record."


class RankingBars(QWidget):
    """All labels as horizontal bars with percentages, best first; the top one highlighted.

    Above the bars: the clip they belong to (a file name, "Recording", a live time) and, when the
    model did not hear all of it, the note saying so; the bars alone would not tell."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setAlignment(Qt.AlignTop)
        self.grid.setColumnStretch(1, 1)
        self.source = QLabel("")
        self.source.setStyleSheet("color: #555;")
        self.headline = QLabel(NO_MODEL_TEXT)
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet(HEADLINE_STYLE)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {UNCERTAIN_COLOUR};")
        for row, widget in enumerate((self.source, self.headline, self.note)):
            self.grid.addWidget(widget, row, 0, 1, 3)
        self.note.hide()
        self.rows: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.ranking: list[Prediction] = []
        self._timing = ""

    def show_prompt(self, has_model: bool, loading: str = "") -> None:
        """What to do next, while no ranking is shown: give it audio, wait for the model `loading`,
        or train first."""
        if not self.ranking:
            waiting = f"Loading model {loading}…" if loading else NO_MODEL_TEXT
            self.headline.setText(READY_TEXT if has_model else waiting)
            self.headline.setStyleSheet(HEADLINE_STYLE)

    def clear(self, has_model: bool) -> None:
        """No ranking shown (the table was cleared): back to the prompt."""
        self._clear_rows()
        self.ranking = []
        self.source.setText("")
        self.note.hide()
        self.show_prompt(has_model)

    def show_ranking(self, ranking: list[Prediction], threshold: float, source: str = "",
                     seconds_ms: float | None = None, note: str | None = None) -> None:
        """Replace the bars with `ranking` of the clip named `source` (empty ranking: unreadable)."""
        self._clear_rows()
        self.ranking = ranking
        self.source.setText(source)
        self.note.setText(note or "")
        self.note.setVisible(bool(note))
        self._timing = f"  ·  {seconds_ms:.0f} ms" if seconds_ms is not None else ""
        if not ranking:
            self.headline.setText("No result")
            self.headline.setStyleSheet(HEADLINE_STYLE)
            return
        self.set_threshold(threshold)
        for i, prediction in enumerate(ranking):
            self._add_row(i, prediction)

    def set_threshold(self, threshold: float) -> None:
        """Re-read the verdict of the ranking shown against a new threshold."""
        if not self.ranking:
            return
        top = self.ranking[0]
        if top.score >= threshold:
            text, colour = f"{top.label}  {top.score:.0%}{self._timing}", SURE_COLOUR
        else:
            text, colour = f"Uncertain (best guess {top.label}, {top.score:.0%}){self._timing}", UNCERTAIN_COLOUR
        self.headline.setText(text)
        self.headline.setStyleSheet(f"{HEADLINE_STYLE} color: {colour};")

    def labels_in_order(self) -> list[str]:
        return [row[0].text() for row in self.rows]

    def _add_row(self, i: int, prediction: Prediction) -> None:
        name = QLabel(prediction.label)
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(int(prediction.score * 1000))
        bar.setTextVisible(False)
        bar.setFixedHeight(16)
        percent = QLabel(f"{prediction.score:.1%}")
        percent.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        if i == 0:
            name.setStyleSheet("font-weight: bold;")
            bar.setStyleSheet("QProgressBar::chunk { background: #2a9d4b; }")
        first_row = 3  # below source, headline and note
        for column, widget in enumerate((name, bar, percent)):
            self.grid.addWidget(widget, first_row + i, column)
        self.rows.append((name, bar, percent))

    def _clear_rows(self) -> None:
        for widgets in self.rows:
            for widget in widgets:
                widget.deleteLater()
        self.rows = []
