"""Small reusable widgets: waveform plot, level meter, inline message bar, busy row; layout helpers that keep
things where they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QWidget,
)

from intentdesk.core.audio.io import SAMPLE_RATE

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


class WaveformView(pg.PlotWidget):
    """The samples of one clip against time; decimated for long clips so drawing stays instant."""

    def __init__(self, parent=None, height: int = 120) -> None:
        super().__init__(parent)
        self.setMinimumHeight(height)
        self.setMaximumHeight(int(height * 1.6))
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("bottom", "seconds")
        self.getAxis("bottom").enableAutoSIPrefix(False)  # never "seconds (x0.001)" on a short clip
        self.getPlotItem().hideAxis("left")
        self.setYRange(-1, 1)
        self._curve = self.plot(pen=pg.mkPen("#3b6fd8", width=1))

    def set_wave(self, samples: np.ndarray | None, rate: int = SAMPLE_RATE) -> None:
        if samples is None or len(samples) == 0:
            self._curve.setData([], [])
            return
        step = max(1, len(samples) // 4000)
        shown = samples[::step]
        self._curve.setData(np.arange(len(shown)) * step / rate, shown)
        peak = float(np.max(np.abs(samples))) or 1.0
        self.setYRange(-peak, peak)
        self.setXRange(0, len(samples) / rate, padding=0)

    def point_count(self) -> int:
        x, _ = self._curve.getData()
        return 0 if x is None else len(x)


class LevelMeter(QProgressBar):
    """Input level in dBFS from -60 (empty) to 0 (full)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRange(-60, 0)
        self.setTextVisible(False)
        self.setFixedHeight(14)
        self.setToolTip("Microphone input level")
        self.set_level(-100)

    def set_level(self, db: float) -> None:
        self.setValue(int(max(-60, min(0, db))))


def one_line(text: str) -> str:
    """A message of several lines as one: a line ending in ":" runs on into what it announces,
    the others are separated by " · " ("Skipped 2 files: a.wav: not audio · b.wav: empty")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = lines[0] if lines else ""
    for before, line in zip(lines, lines[1:]):
        joined += (" " if before.endswith(":") else "  ·  ") + line
    return joined


class MessageBar(QWidget):
    """An inline, dismissable message (errors, warnings, confirmations) instead of modal popups,
    so the user can read it while going on working, and tests can read it too.

    It keeps one line of space reserved whether shown or not, so a message appearing or
    hiding never moves what the user is about to click. A text of several lines is shown on that
    one line (`one_line`: what was skipped and why is read without a click), cut where the room
    ends; Details… (and the tooltip) give all of it.
    """

    STYLES = {"error": "#fde2e1", "warning": "#fff4d6", "info": "#e3f1ff"}

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.details_button = QPushButton("Details…")
        self.details_button.setFlat(True)
        self.details_button.clicked.connect(self.show_details)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(close)
        self.kind = ""
        self._text = ""
        self._timer = QTimer(self, singleShot=True, timeout=self.hide)
        keep_room_when_hidden(self)
        self.setFixedHeight(max(self.details_button.sizeHint().height(), self.label.sizeHint().height()) + 4)
        self.hide()

    def show_message(self, text: str, kind: str = "info", timeout_ms: int = 0) -> None:
        self.kind = kind
        self._text = text
        self.setToolTip(text)
        self.setStyleSheet(f"MessageBar {{ background: {self.STYLES.get(kind, '#eee')}; border-radius: 4px; }}")
        self.show()
        self._fit_text()
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def _fit_text(self) -> None:
        """Every line on one, elided to the room there is; Details… when something does not show."""
        whole = one_line(self._text)
        room = max(40, self.width() - self.details_button.sizeHint().width() - 60)
        shown = self.label.fontMetrics().elidedText(whole, Qt.ElideRight, room)
        self.label.setText(shown)
        self.details_button.setVisible(shown != whole)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._text:
            self._fit_text()

    def show_details(self) -> None:
        box = QMessageBox(QMessageBox.Warning if self.kind in ("error", "warning") else QMessageBox.Information,
                          "IntentDesk", self._text, QMessageBox.Close, self)
        box.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box.open()

    def is_shown(self) -> bool:
        """Shown on its page (true even while another tab is in front)."""
        return not self.isHidden()

    def text(self) -> str:
        """The whole message (not only the line that fits)."""
        return self._text if self.is_shown() else ""


class BusyRow(QWidget):
    """A wait that shows itself: a bar (moving while there is no count, filling with one) and what is
    happening ("Classifying 4 of 13 files…"). Its room is kept while hidden, so a wait that starts or
    ends never moves what is below it."""

    def __init__(self, parent=None, bar_width: int = 120) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(bar_width)
        self.bar.setTextVisible(False)
        self.text = QLabel()
        self.text.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long text never widens the window
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.text, 1)
        keep_room_when_hidden(self)
        self.hide()

    def show_busy(self, text: str, done: int | None = None, total: int | None = None) -> None:
        """Show `text` with a bar at `done` of `total` (a moving bar without them); "" hides the row."""
        self.text.setText(text)
        self.text.setToolTip(text)
        self.bar.setRange(0, total or 0)
        if total:
            self.bar.setValue(min(done or 0, total))
        self.setVisible(bool(text))


def keep_room_when_hidden(widget: QWidget) -> QWidget:
    """The layout keeps `widget`'s room while it is hidden: a row that comes and goes moves nothing."""
    policy = widget.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    widget.setSizePolicy(policy)
    return widget


def fit_texts(button: QAbstractButton, texts: tuple[str, ...]) -> QAbstractButton:
    """Make `button` wide enough for the longest of the `texts` it can show, so changing its text
    ("Record" to "Stop and classify") never moves it or its neighbours."""
    shown = button.text()
    widest = 0
    for text in texts:
        button.setText(text)
        widest = max(widest, button.sizeHint().width())
    button.setText(shown)
    button.setMinimumWidth(widest)
    return button


def side_by_side(left: QWidget, right: QWidget, ratio: tuple[int, int] = (2, 3)) -> QSplitter:
    """The two-pane layout every tab uses: controls on the left, results on the right."""
    splitter = QSplitter(Qt.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, ratio[0])
    splitter.setStretchFactor(1, ratio[1])
    return splitter


def accept_file_drags(event) -> None:
    """dragEnterEvent body for tabs that take dropped files."""
    if event.mimeData().hasUrls():
        event.acceptProposedAction()


def dropped_paths(event) -> list[Path]:
    """The local files and folders of a drop event (URLs from elsewhere are ignored)."""
    event.acceptProposedAction()
    return [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
