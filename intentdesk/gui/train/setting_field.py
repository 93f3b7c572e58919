"""One training setting's widget in the Train form, made from its `SettingSpec` and its field's type (a
spin box with the spec's bounds, step and suffix; a check box; a list of choices; a line of numbers or
a model id), with one way to read, show and check its value whatever the widget."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from intentdesk.core.learning.settings import SettingSpec, default_of, field_type
from intentdesk.gui.common.wheel_guard import wheel_only_when_focused


def short_name(spec: SettingSpec) -> str:
    """The setting's name as a note can say it: "epochs" for "Passes over the data (epochs)"."""
    match = re.search(r"\(([^)]+)\)\s*$", spec.label)
    return match.group(1) if match else spec.label.lower()


def plain_number(setting: SettingField) -> str:
    """A number field's value as the form shows it, without trailing zeros: 0.00002, not 2e-05."""
    text = f"{setting.value():.{setting.spec.decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def changed_signal(widget: QWidget):
    """The signal a setting's widget gives when its value changes (by the person or the program)."""
    for name in ("valueChanged", "toggled", "currentTextChanged", "textChanged"):
        if hasattr(widget, name):
            return getattr(widget, name)
    raise TypeError(f"no change signal on {type(widget).__name__}")


class SettingField:
    """One setting's widget, made from its spec and type, with a uniform get/set. `typed`: the person
    changed the value since the form last set it."""

    def __init__(self, name: str, spec: SettingSpec) -> None:
        self.name, self.spec, self.kind = name, spec, field_type(name)
        self.widget = self._make()
        self.widget.setToolTip(spec.help)
        self.typed, self._setting = False, False
        changed_signal(self.widget).connect(self._changed)
        if isinstance(self.widget, (QSpinBox, QDoubleSpinBox)):  # typing the value that is there is typing too
            self.widget.lineEdit().textEdited.connect(self._changed)
        default = default_of(name)
        if default is not None:
            self.set(default)

    def _changed(self, *_args) -> None:
        if not self._setting:
            self.typed = True

    def _make(self) -> QWidget:
        spec = self.spec
        if spec.choices:
            combo = wheel_only_when_focused(QComboBox())
            combo.addItems(list(spec.choices))
            return combo
        if self.kind is bool:
            return QCheckBox(spec.label)
        if spec.percent:  # a share shown as a percentage: "20 %", not "0.20"
            box = wheel_only_when_focused(QSpinBox(suffix=" %"))
            box.setRange(round(100 * (spec.minimum or 0)), round(100 * (spec.maximum or 1)))
            box.setSingleStep(round(100 * (spec.step or 0.01)))
            return box
        if self.kind in (int, float):
            box = wheel_only_when_focused(QSpinBox() if self.kind is int else QDoubleSpinBox(decimals=spec.decimals))
            box.setRange(spec.minimum if spec.minimum is not None else -1e9,
                         spec.maximum if spec.maximum is not None else 1e9)
            box.setSingleStep(spec.step or 1)
            box.setSuffix(spec.suffix)
            return box
        edit = QLineEdit()  # a tuple of numbers: comma-separated, empty for none; or a text (a model id)
        edit.setPlaceholderText("none" if self.kind is not str else "")
        return edit

    def value(self) -> Any:
        widget = self.widget
        if isinstance(widget, QComboBox):
            return widget.currentText()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            return widget.value() / 100 if self.spec.percent else widget.value()
        if self.kind is str:
            return widget.text().strip() or str(default_of(self.name))
        text = widget.text().replace(",", " ").split()
        return tuple(float(part) for part in text)  # ValueError: see problem()

    def set(self, value: Any) -> None:
        """Show `value` (the form's own setting: the field counts as not typed by the person)."""
        self._setting, self.typed = True, False
        try:
            self._show(value)
        finally:
            self._setting = False

    def _show(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setValue(round(100 * value) if self.spec.percent else value)
        elif self.kind is str:
            widget.setText(str(value))
        else:
            widget.setText(", ".join(f"{v:g}" for v in value))

    def problem(self) -> str | None:
        """Why the typed value cannot be used (only free-text fields can be wrong)."""
        try:
            values = self.value()
        except ValueError:
            return f"{self.spec.label}: write numbers separated by commas, e.g. 0.9, 1.1"
        if isinstance(values, tuple) and any(v <= 0 for v in values):
            return f"{self.spec.label}: every number must be above 0"
        return None
