"""The Train tab's settings column: scrolls rather than squashes, and is as wide as its widest state."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QScrollArea, QWidget


class FormScroll(QScrollArea):
    """The settings form, scrolling rather than squashed on small screens: it asks for the form's whole
    height, so it takes what the form needs when there is room and gives way (scrolls) when Advanced
    settings make the form taller than the room above Start."""

    def __init__(self, page: QWidget, widest: int = 0) -> None:
        """`widest`: the page's width with everything folded in it shown (the advanced settings), so that
        unfolding them never needs a sideways scroll bar (it cut off the settings' right edge)."""
        super().__init__()
        self.setWidget(page)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self.setMinimumWidth(max(widest, page.sizeHint().width()) + self.verticalScrollBar().sizeHint().width())

    def sizeHint(self) -> QSize:
        page = self.widget().sizeHint()
        return QSize(page.width() + self.verticalScrollBar().sizeHint().width(), page.height())
