"""Results that cannot fool a beginner: cautions for few test clips, named columns, no empty axes, nothing cut off."""

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from intentdesk.gui.train.plots import ConfusionMatrixView, TrainingCurves
from intentdesk.gui.train.results import ResultsPanel, cautions, likely_range, summary_html
from tests.helpers import settle

LABELS = ["balance", "freeze", "pay_bill"]


def metrics(count: int, accuracy: float = 1.0, support=(3, 2, 2)) -> dict:
    per_class = {label: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": n} for label, n in zip(LABELS, support)}
    averages = {"micro": accuracy, "macro": accuracy, "weighted": accuracy}
    return {"labels": LABELS, "count": count, "accuracy": accuracy, "best_epoch": 3, "precision": averages,
            "recall": averages, "f1": averages, "per_class": per_class,
            "confusion_matrix": np.diag(support).tolist()}


def test_accuracy_on_seven_clips_comes_with_a_caution_and_a_range():
    text = summary_html(metrics(7))
    assert "Right on 100% of the 7 test clips" in text
    low, high = likely_range(1.0, 7)
    assert low == pytest.approx(0.646, abs=0.01) and high == 1.0
    assert "between 65% and 100%" in text
    assert "Only 7 test clips" in text and "says little" in text
    assert "sets aside more than the share asked for" in text  # why 13 clips gave 6 test clips
    assert "Labels tested on fewer than 5 clips" in text and "freeze (2)" in text


def test_enough_test_clips_get_no_caution_but_still_a_range():
    many = metrics(400, 0.9, support=(140, 130, 130))
    assert cautions(many) == []
    low, high = likely_range(0.9, 400)
    assert 0.86 < low < 0.9 < high < 0.93
    assert "likely between 87% and 93%" in summary_html(many)


def test_averages_are_named_in_plain_words():
    text = summary_html(metrics(7))
    for words in ("every clip counts the same (micro)", "every label counts the same (macro)",
                  "labels weighted by their clips (weighted)", "Precision: when the model says a label"):
        assert words in text


def test_confusion_matrix_columns_are_label_names(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_matrix(np.eye(3, dtype=int).tolist(), LABELS)
    assert view.columns.names == LABELS
    assert [text for _, text in view.getAxis("left")._tickLevels[0]] == LABELS
    assert not view.placeholder.isVisible()


def test_empty_confusion_matrix_shows_a_sentence_not_axes(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_matrix(np.eye(3, dtype=int).tolist(), LABELS)
    view.set_matrix([], [])
    assert view.placeholder.isVisible() and "pick a run" in view.placeholder.toPlainText()
    assert view.getAxis("left")._tickLevels == [[]] and view.columns.names == []
    for side in ("left", "bottom"):
        assert not view.getAxis(side).autoSIPrefix  # never "(x0.001)"


def test_curve_axes_never_scale_to_x0001(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    for plot in (curves.loss_plot, curves.score_plot):
        for side in ("left", "bottom"):
            assert not plot.getAxis(side).autoSIPrefix


def test_per_class_table_is_not_cut_off_at_the_usual_size(qtbot):
    host = QWidget()
    panel = ResultsPanel(host)
    qtbot.addWidget(host)
    host.resize(700, 740)  # the Results view's share of a 1260 x 820 window
    panel.resize(700, 740)
    labels = [f"high_value_intent_{i}" for i in range(14)]
    many = metrics(280, 0.95, support=[20] * 14)
    many.update(labels=labels, per_class={label: {"precision": 0.95, "recall": 0.95, "f1": 0.95, "support": 20}
                                          for label in labels}, confusion_matrix=np.eye(14, dtype=int).tolist())
    panel.show_metrics(many)
    host.show()
    qtbot.waitExposed(host)
    settle()
    assert panel.per_class.horizontalScrollBar().maximum() == 0, "every column visible without scrolling"
    panel.clear()
    assert panel.per_class.rowCount() == 0 and panel.confusion.placeholder.isVisible()


def test_almost_all_right_is_not_rounded_to_everything():
    from intentdesk.gui.common.wording import percent

    assert percent(220 / 221) == "99.5%" and percent(1.0) == "100%"
    assert percent(1 / 221) == "0.5%" and percent(0.0) == "0%" and percent(0.9) == "90%"


def test_the_parts_compared_round_as_the_summary_under_them():
    """220 of 221 right read "Together 100%" in the table and "Right on 99.5%" under it."""
    from intentdesk.gui.train.parts import comparison_html
    from intentdesk.gui.train.results import summary_html

    fused = {"accuracy": 220 / 221, "count": 221, "f1": {"macro": 0.99}}
    assert ">99.5%<" in comparison_html({"fused": fused, "sound": {**fused, "accuracy": 0.9}}).replace("<b>", "")
    assert "Right on 99.5% of the 221 test clips" in summary_html(fused)
    assert "100%" not in comparison_html({"fused": fused})


def test_a_label_with_no_test_clip_is_shown_as_untested_not_as_zero(qtbot):
    """An intent learned from typed phrases alone has no test clip: its row says so (a dash, not 0.000) and
    the cautions do not call it rough; `metrics` leaves it out of the macro averages (test_metrics)."""
    host = QWidget()
    panel = ResultsPanel(host)
    qtbot.addWidget(host)
    shown = metrics(400, support=(200, 200, 0))
    panel.show_metrics(shown)
    cells = [[panel.per_class.item(r, c).text() for c in range(5)] for r in range(panel.per_class.rowCount())]
    assert cells[2] == ["pay_bill", "—", "—", "—", "0"] and cells[0][1] == "1.000"
    assert "No test clip" in panel.per_class.item(2, 3).toolTip()
    assert cautions(shown) == []
