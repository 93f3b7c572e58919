"""Small reusable widgets: waveform plot, level meter, inline message bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
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


class MessageBar(QWidget):
    """An inline, dismissable message (errors, warnings, confirmations) instead of modal popups,
    so the user can read it while going on working, and tests can read it too.

    It keeps one line of space reserved whether shown or not, so a message appearing or
    hiding never moves what the user is about to click. A longer text shows its first line;
    Details… (and the tooltip) give all of it.
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
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
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
        """First line, elided to the room there is; Details… when something does not show."""
        first = self._text.split("\n", 1)[0]
        room = max(40, self.width() - self.details_button.sizeHint().width() - 60)
        shown = self.label.fontMetrics().elidedText(first, Qt.ElideRight, room)
        self.label.setText(shown)
        self.details_button.setVisible(shown != self._text)

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
