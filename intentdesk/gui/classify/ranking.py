"""The ranking of one clip as bars: which clip it is, the verdict, a note, every label best first, and
(with a words model) what the recogniser heard."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from intentdesk.core.inference.results import Prediction

HEADLINE_PX = 18
HEADLINE_STYLE = f"font-size: {HEADLINE_PX}px; font-weight: bold;"
HEADLINE_LINES = 2  # "Uncertain (best guess a_long_label, 31%) · 12 ms" wraps: its room is there from the start
SURE_COLOUR = "#1d6b35"
UNCERTAIN_COLOUR = "#9a5b00"
NO_MODEL_TEXT = "No model yet: train one in the Train tab, or choose a model folder above."
READY_TEXT = "Drop audio files here, open them, or record."
OUT_OF_SCOPE_TEXT = "Uncertain — maybe none of your intents"
# Why a clip scored above the "uncertain below" box is uncertain all the same (a tester read 93 % against 0.50)
OWN_CHECK_TEXT = ("The model's own check says this is unlike every intent it learned, so its best guess is not to be "
                  "trusted, whatever the score. The “uncertain below” box adds the clips scored under it.")
NOTHING_HEARD = "(no words recognised)"


def heard_text(transcript: str | None) -> str:
    """The line under the bars: what the words model read ("" for a sound-only model)."""
    if transcript is None:
        return ""
    return f"Heard: “{transcript.strip()}”" if transcript.strip() else f"Heard: {NOTHING_HEARD}"


class RankingBars(QWidget):
    """All labels as horizontal bars with percentages, best first; the top one highlighted.

    Above the bars: the clip they belong to (a file name, "Recording", a live time) and, when the
    model did not hear all of it, the note saying so; the bars alone would not tell. Under the bars,
    with a model that has words, what was heard ("Heard: …")."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setAlignment(Qt.AlignTop)
        self.grid.setColumnStretch(1, 1)
        self.source = QLabel("")
        self.source.setStyleSheet("color: #555;")
        self.no_model_text = NO_MODEL_TEXT  # an app made for others says its own (it has no Train tab)
        self.headline = QLabel(NO_MODEL_TEXT)
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet(HEADLINE_STYLE)
        font = self.headline.font()
        font.setPixelSize(HEADLINE_PX)
        font.setBold(True)
        self.headline.setMinimumHeight(HEADLINE_LINES * QFontMetrics(font).lineSpacing())
        self.headline.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {UNCERTAIN_COLOUR};")
        for row, widget in enumerate((self.source, self.headline, self.note)):
            self.grid.addWidget(widget, row, 0, 1, 3)
        self.note.hide()
        self.heard = QLabel("")
        self.heard.setWordWrap(True)
        self.heard.setToolTip("What the speech recogniser wrote down; the words model read this")
        self.heard.setStyleSheet("color: #333; font-style: italic;")
        self.grid.addWidget(self.heard, 3, 0, 1, 3)
        self.heard.hide()
        for label in (self.source, self.headline, self.note, self.heard):
            label.setTextFormat(Qt.PlainText)  # file names, labels and transcripts come from others: never HTML
        self.rows: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.ranking: list[Prediction] = []
        self._timing = ""
        self._out_of_scope = False

    def show_prompt(self, has_model: bool, loading: str = "") -> None:
        """What to do next, while no ranking is shown: give it audio, wait for the model `loading`,
        or train first."""
        if not self.ranking:
            waiting = f"Loading model {loading}…" if loading else self.no_model_text
            self.headline.setText(READY_TEXT if has_model else waiting)
            self.headline.setStyleSheet(HEADLINE_STYLE)

    def clear(self, has_model: bool) -> None:
        """No ranking shown (the table was cleared): back to the prompt."""
        self._clear_rows()
        self.ranking = []
        self.source.setText("")
        self.note.hide()
        self._show_heard(None)
        self.show_prompt(has_model)

    def show_ranking(self, ranking: list[Prediction], threshold: float, source: str = "",
                     seconds_ms: float | None = None, note: str | None = None, transcript: str | None = None,
                     uncertain: bool = False) -> None:
        """Replace the bars with `ranking` of the clip named `source` (empty ranking: unreadable);
        `transcript` is what a words model heard (None: sound only), `uncertain` its out-of-scope verdict."""
        self._clear_rows()
        self.ranking = ranking
        self._out_of_scope = uncertain
        self.source.setText(source)
        note = "\n".join(text for text in (note, OWN_CHECK_TEXT if uncertain and ranking else "") if text)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._timing = f"  ·  {seconds_ms:.0f} ms" if seconds_ms is not None else ""
        if not ranking:
            self._show_heard(None)
            self.headline.setText("No result")
            self.headline.setStyleSheet(HEADLINE_STYLE)
            return
        self.set_threshold(threshold)
        self._fit_names(ranking)
        for i, prediction in enumerate(ranking):
            self._add_row(i, prediction)
        self._show_heard(transcript)

    def _show_heard(self, transcript: str | None) -> None:
        """The transcript goes under the last bar."""
        self.grid.removeWidget(self.heard)
        self.grid.addWidget(self.heard, 3 + len(self.rows), 0, 1, 3)
        self.heard.setText(heard_text(transcript))
        self.heard.setVisible(transcript is not None)

    def set_threshold(self, threshold: float) -> None:
        """Re-read the verdict of the ranking shown against a new threshold."""
        if not self.ranking:
            return
        top = self.ranking[0]
        if self._out_of_scope:
            text = f"{OUT_OF_SCOPE_TEXT} (best guess {top.label}, {top.score:.0%}){self._timing}"
            colour = UNCERTAIN_COLOUR
        elif top.score >= threshold:
            text, colour = f"{top.label}  {top.score:.0%}{self._timing}", SURE_COLOUR
        else:
            text, colour = f"Uncertain (best guess {top.label}, {top.score:.0%}){self._timing}", UNCERTAIN_COLOUR
        self.headline.setText(text)
        self.headline.setStyleSheet(f"{HEADLINE_STYLE} color: {colour};")

    def labels_in_order(self) -> list[str]:
        return [row[0].text() for row in self.rows]

    def _fit_names(self, ranking: list[Prediction]) -> None:
        """The names' column as wide as the longest label in bold (the top one is bold): whichever label
        comes first, the bars start at the same place."""
        font = self.font()
        font.setBold(True)
        metrics = QFontMetrics(font)
        self.grid.setColumnMinimumWidth(0, max(metrics.horizontalAdvance(p.label) for p in ranking)
                                        + metrics.averageCharWidth())  # a little more than the text asks for

    def _add_row(self, i: int, prediction: Prediction) -> None:
        name = QLabel(prediction.label)
        name.setTextFormat(Qt.PlainText)
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
                widget.hide()  # at once: deleted later, and never drawn under the new rows meanwhile
                widget.deleteLater()
        self.rows = []
