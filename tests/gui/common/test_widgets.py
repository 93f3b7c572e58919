"""Shared widgets: a message never moves what the user is about to click (issue #16)."""

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from intentdesk.gui.common.widgets import MessageBar


def test_showing_and_hiding_a_message_moves_nothing_below_it(qtbot):
    page = QWidget()
    layout = QVBoxLayout(page)
    bar = MessageBar()
    button = QPushButton("Start training")
    layout.addWidget(bar)
    layout.addWidget(button)
    layout.addStretch(1)
    qtbot.addWidget(page)
    page.resize(500, 300)
    page.show()
    qtbot.waitExposed(page)

    def where():
        return button.mapToGlobal(QPoint(0, 0)), button.size()

    before = where()
    bar.show_message("Deleted 1 clip(s). Ctrl+Z brings them back.", "info")
    assert bar.is_shown() and where() == before
    many_lines = "Added 3 clip(s). Skipped 10 files:\n" + "\n".join(f"broken{n}.wav" for n in range(10))
    bar.show_message(many_lines, "warning")
    assert where() == before
    assert bar.text() == many_lines  # all of it readable (Details…), not only the line shown
    assert bar.details_button.isVisibleTo(bar)
    bar.hide()
    assert not bar.is_shown() and bar.text() == "" and where() == before


def test_a_short_message_needs_no_details(qtbot):
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.resize(600, bar.height())
    bar.show_message("Saved.", "info", timeout_ms=50)
    assert not bar.details_button.isVisibleTo(bar)
    qtbot.waitUntil(lambda: not bar.is_shown(), timeout=30000)


def test_waveform_time_axis_never_shows_a_scale_factor(qtbot):
    """A 50 ms take must read "seconds", not "seconds (x0.001)" (pyqtgraph's automatic SI prefix)."""
    import numpy as np

    from intentdesk.gui.common.widgets import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    view.set_wave(np.linspace(-0.5, 0.5, 800, dtype=np.float32), 16000)
    axis = view.getAxis("bottom")
    assert axis.labelString().count("x0.001") == 0 and "seconds" in axis.labelString()
    assert axis.autoSIPrefix is False
