"""The label a person typed, as the dataset knows it: "Balance " is "balance", and "balances" asks
"Did you mean 'balance'?" before a second intent is made (core/data/label_names.py has the rules)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from intentdesk.core.data.label_names import same_label, similar_labels


class LabelNames:
    """Settles typed labels against `labels()` (the dataset's, in key order)."""

    def __init__(self, parent: QWidget, labels: Callable[[], list[str]]) -> None:
        self.parent = parent
        self.labels = labels

    def settle(self, typed: str) -> str | None:
        """The label to use for `typed`: an existing one it obviously means, the one the person picked
        when it only looks like one, or `typed` tidied; None when the person went back to edit it."""
        existing = self.labels()
        label = same_label(typed, existing)
        if not label or label in existing:
            return label or None
        similar = similar_labels(label, existing)
        return self.ask_similar(label, similar[0]) if similar else label

    def ask_similar(self, typed: str, existing: str) -> str | None:
        """Modal "Did you mean 'balance'?" (tests replace this method): `existing`, `typed`, or None."""
        box = QMessageBox(QMessageBox.Question, "A label like this exists",
                          f"Did you mean '{existing}'?\n\n'{typed}' would be a new label beside it, and what is "
                          "given it (clips or typed phrases) would be trained as a different intent.",
                          parent=self.parent)
        box.setTextFormat(Qt.PlainText)  # labels come from other people's folders: text, never HTML
        use = box.addButton(f"Use '{existing}'", QMessageBox.AcceptRole)
        create = box.addButton(f"Create '{typed}'", QMessageBox.ActionRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(use)
        box.exec()
        return {use: existing, create: typed}.get(box.clickedButton())
