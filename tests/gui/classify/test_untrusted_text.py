"""Labels, file names and transcripts come from other people's model folders and files: the
Classify tab shows them as text, never as HTML (a label "<img src=...>" renders nothing)."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt

from intentdesk.core.inference.results import Prediction
from intentdesk.gui.classify.model_panel import describe
from intentdesk.gui.classify.ranking import RankingBars

HOSTILE = "<img src='file:///etc/passwd'><a href='http://evil'>click</a>"


def test_the_ranking_shows_hostile_labels_and_sources_as_plain_text(qtbot):
    view = RankingBars()
    qtbot.addWidget(view)
    view.show_ranking([Prediction(HOSTILE, 0.9), Prediction("b", 0.1)], 0.5, source=HOSTILE + ".wav")
    shown = [view.source, *(row[0] for row in view.rows)]
    assert all(label.textFormat() == Qt.PlainText for label in shown)
    assert HOSTILE in view.source.text() and view.rows[0][0].text() == HOSTILE


def test_the_model_line_escapes_names_from_the_model_folder():
    classifier = SimpleNamespace(model_dir="/m/<b>x</b>", words_problem=None, has_words=False, info=lambda: {
        "accuracy": None, "base_model": HOSTILE, "precision": "float32", "labels": [HOSTILE, "b"]})
    html = describe(classifier)
    assert "<img" not in html and "<a href" not in html and "&lt;img" in html
