"""The Results panel: a run's scores in plain words, how far to trust them, per label and as a confusion matrix."""

from __future__ import annotations

import math
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from intentdesk.gui.common.wording import percent
from intentdesk.gui.train.parts import PartsChooser, parts_of
from intentdesk.gui.train.plots import ConfusionMatrixView

FEW_TEST_CLIPS = 50  # below this, the summary warns that the score says little
FEW_LABEL_CLIPS = 5  # a label scored on fewer test clips than this gets a caution
AVERAGES = (  # (plain words, key in metrics.json, what it means)
    ("every clip counts the same (micro)", "micro", "Pooled over all test clips."),
    ("every label counts the same (macro)", "macro",
     "The plain average over labels: a label the model gets wrong pulls it down however few clips it has."),
    ("labels weighted by their clips (weighted)", "weighted", "The average over labels, weighted by their clips."),
)
COLUMNS = (
    ("Label", "The intent"),
    ("Precision", "When the model says this label, how often it is right"),
    ("Recall", "Of this label's test clips, how many the model finds"),
    ("F1", "Precision and recall combined into one number (1 is perfect, 0 is never right)"),
    ("Test clips", "How many of this label's clips were kept aside to test on"),
)
EMPTY_TEXT = "Results appear here when a run ends, or when you pick a run in Runs."


def likely_range(share: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The range the true accuracy likely lies in (95 % Wilson interval) given `share` right of `count` clips."""
    if count <= 0:
        return 0.0, 1.0
    centre = (share + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return max(0.0, centre - half), min(1.0, centre + half)


def summary_html(metrics: dict) -> str:
    """Accuracy first as a sentence, how far it can be trusted, then the averaged scores explained."""
    accuracy, count = metrics.get("accuracy", 0.0), int(metrics.get("count", 0))
    low, high = likely_range(accuracy, count)
    lines = [f"<b>Right on {percent(accuracy)} of the {count} test clips</b> (accuracy {accuracy:.3f}; "
             f"best pass {metrics.get('best_epoch')})",
             f"The true figure is likely between {percent(low)} and {percent(high)}."]
    if metrics.get("learned_from_all"):
        lines.append("These scores come from training without the test clips; the saved model then "
                     "learned from all clips, test clips included, so it is likely a little better.")
    lines += [f"<span style='color:#9a5b00'>⚠ {text}</span>" for text in cautions(metrics)]
    p, r, f = metrics.get("precision", {}), metrics.get("recall", {}), metrics.get("f1", {})
    rows = "".join(f"<tr><td title='{tip}'>{words}</td><td>{p.get(key, 0):.3f}</td><td>{r.get(key, 0):.3f}</td>"
                   f"<td>{f.get(key, 0):.3f}</td></tr>" for words, key, tip in AVERAGES)
    table = (f"<table cellpadding=3><tr><th align=left>averaged with</th><th>precision</th><th>recall</th>"
             f"<th>F1</th></tr>{rows}</table>")
    legend = ("<small>Precision: when the model says a label, how often it is right. Recall: of a label's "
              "clips, how many it finds. F1 combines both (1 is perfect).</small>")
    return "<br>".join(lines) + table + legend


def cautions(metrics: dict) -> list[str]:
    """Plain warnings for scores that can fool a beginner: too few test clips, overall or per label."""
    count, notes = int(metrics.get("count", 0)), []
    if count < FEW_TEST_CLIPS:
        notes.append(f"Only {count} test clips: each one moves the score by {1 / max(count, 1):.0%}, so this "
                     "says little. Record more clips per label for a score you can trust. (Each label keeps at "
                     "least one clip for testing, so a small dataset sets aside more than the share asked for.)")
    few = [f"{escape(str(label))} ({row['support']})" for label, row in metrics.get("per_class", {}).items()
           if 0 < row["support"] < FEW_LABEL_CLIPS]
    if few:
        notes.append(f"Labels tested on fewer than {FEW_LABEL_CLIPS} clips have very rough scores: {', '.join(few)}.")
    return notes


class ResultsPanel(QScrollArea):
    """Summary, the per-label table at its full height, then the confusion matrix, one under the other
    in one scrolling page: every row and column can be read, nothing is squeezed or cut off."""

    ROW_PX = 24
    MATRIX_PX = 460

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(EMPTY_TEXT)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.per_class = QTableWidget(0, len(COLUMNS))
        for column, (title, tip) in enumerate(COLUMNS):
            header = QTableWidgetItem(title)
            header.setToolTip(tip)
            self.per_class.setHorizontalHeaderItem(column, header)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.per_class.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.per_class.verticalHeader().hide()
        self.per_class.verticalHeader().setDefaultSectionSize(self.ROW_PX)
        self.per_class.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.confusion = ConfusionMatrixView()
        self.confusion.setMinimumHeight(self.MATRIX_PX)
        self.parts = PartsChooser()
        self.parts.chosen.connect(self.show_part)
        self._parts: dict[str, dict] = {}
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.parts)
        layout.addWidget(self.summary)
        layout.addWidget(self.per_class)
        layout.addWidget(self.confusion, 1)
        self.setWidget(page)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self._fit_table()

    def _fit_table(self) -> None:
        """The table as tall as its rows: the page scrolls, not the table."""
        rows = self.per_class.rowCount()
        self.per_class.setFixedHeight(self.per_class.horizontalHeader().sizeHint().height() + rows * self.ROW_PX + 4)

    def clear(self) -> None:
        self._parts = {}
        self.parts.show_parts({}, "")
        self.summary.setText(EMPTY_TEXT)
        self.per_class.setRowCount(0)
        self._fit_table()
        self.confusion.set_matrix([], [])

    def show_metrics(self, metrics: dict) -> None:
        """A run's results; after a run with words, the three parts compared and the fused part's details."""
        self._parts = parts_of(metrics)
        if self._parts:
            self.show_part("fused" if "fused" in self._parts else next(iter(self._parts)))
        else:
            self.parts.show_parts({}, "")
            self._show_details(metrics)

    def show_part(self, key: str) -> None:
        """Summary, per-label table and confusion matrix of one part (sound, words or fused)."""
        if key in self._parts:
            self.parts.show_parts(self._parts, key)
            self._show_details(self._parts[key])

    def _show_details(self, metrics: dict) -> None:
        self.summary.setText(summary_html(metrics))
        per_class = metrics.get("per_class", {})
        self.per_class.setRowCount(len(per_class))
        for i, (label, row) in enumerate(per_class.items()):
            untested = not row["support"]  # no clip to test it on (an intent typed, never recorded)
            scores = ["—"] * 3 if untested else [f"{row[key]:.3f}" for key in ("precision", "recall", "f1")]
            for j, value in enumerate([label, *scores, str(row["support"])]):
                item = QTableWidgetItem(value)
                if untested:
                    item.setToolTip("No test clip of this label: nothing to score it on (it does not count in "
                                    "the averages unless a clip was wrongly given it)")
                elif row["support"] < FEW_LABEL_CLIPS:
                    item.setToolTip(f"Only {row['support']} test clip(s): this row's scores are very rough")
                self.per_class.setItem(i, j, item)
        self._fit_table()
        self.confusion.set_matrix(metrics.get("confusion_matrix", []), metrics.get("labels", []))
