"""Scrolling past a setting must not change it; a box the user clicked into still takes the wheel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from intentdesk.gui.train.form import SettingsForm


def wheel_up(widget) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_past_train_settings_until_one_is_clicked(qtbot):
    form = SettingsForm(["facebook/wav2vec2-base"])
    qtbot.addWidget(form)
    form.show()
    epochs = form.field("epochs")
    before = epochs.value()
    wheel_up(epochs)
    assert epochs.value() == before  # only scrolled past
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus, timeout=30000)
    wheel_up(epochs)
    assert epochs.value() != before  # chosen on purpose: the wheel steps it
    base = form.base_combo
    base.addItem("another/model")
    wheel_up(base)
    assert form.base_model() == "facebook/wav2vec2-base"
