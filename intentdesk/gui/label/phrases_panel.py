"""Typed example phrases: for a label, sentences a user might say, learned by the words model without
recording them. Stored in the dataset's `phrases.csv` through `store.texts.add_phrases`/`remove_phrases`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError

HELP = ("Sentences someone might say for an intent, typed instead of recorded. Training with words "
        "learns from them as well as from the clips' transcripts.")


class PhrasesPanel(QWidget):
    """Pick a label, type a sentence, Enter adds it; the label's phrases are listed with Remove.

    `message(text, kind)` reports what happened (the tab's message bar shows it)."""

    message = Signal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: DatasetStore | None = None
        self.setToolTip(HELP)
        self.label_combo = QComboBox()
        self.label_combo.setMinimumWidth(120)
        self.label_combo.setToolTip("The intent these phrases belong to")
        self.label_combo.currentIndexChanged.connect(self.show_phrases)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("type an example sentence, Enter adds it")
        self.edit.setToolTip(HELP)
        self.edit.returnPressed.connect(self.add_typed)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_typed)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setMaximumHeight(110)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected phrases")
        self.remove_button.clicked.connect(self.remove_selected)
        self.count = QLabel("")
        self.count.setWordWrap(True)
        self.count.setStyleSheet("color: #555;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.label_combo, 0), (self.edit, 1), (self.add_button, 0)):
            row.addWidget(widget, stretch)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.list)
        layout.addLayout(bottom)
        self.set_dataset(None)

    def set_dataset(self, store: DatasetStore | None) -> None:
        self.store = store
        self.set_labels(store.labels() if store is not None else [])

    def set_labels(self, labels: list[str]) -> None:
        """The labels to choose from (the current choice stays when it still exists)."""
        current = self.label_combo.currentText()
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItems(labels)
        if current in labels:
            self.label_combo.setCurrentText(current)
        self.label_combo.blockSignals(False)
        for widget in (self.label_combo, self.edit, self.add_button, self.list, self.remove_button):
            widget.setEnabled(self.store is not None and bool(labels))
        self.edit.setPlaceholderText("type an example sentence, Enter adds it" if labels
                                     else "record or import a clip first: phrases belong to a label")
        self.show_phrases()

    def label(self) -> str:
        return self.label_combo.currentText()

    def all_phrases(self) -> list[tuple[str, str]]:
        """Every (label, text) of phrases.csv; [] (and the reason shown) when it cannot be read."""
        if self.store is None or not hasattr(self.store, "texts"):
            return []
        try:
            return self.store.texts.phrases()
        except (IntentDeskError, OSError) as error:
            self.message.emit(str(error), "error")
            return []

    def phrases(self) -> list[str]:
        """The shown label's phrases, as stored."""
        return self._of_shown_label(self.all_phrases())

    def _of_shown_label(self, pairs: list[tuple[str, str]]) -> list[str]:
        return [text for label, text in pairs if label == self.label()] if self.label() else []

    def show_phrases(self) -> None:
        pairs = self.all_phrases()
        texts = self._of_shown_label(pairs)
        self.list.clear()
        self.list.addItems(texts)
        shown = {self.label_combo.itemText(i) for i in range(self.label_combo.count())}
        waiting = sorted({label for label, _ in pairs if label not in shown})
        note = (f" · {sum(label in waiting for label, _ in pairs)} more for labels with no clips yet "
                f"({', '.join(waiting[:3])}{'…' if len(waiting) > 3 else ''}): kept, and used once they have clips"
                if waiting else "")
        self.count.setText((f"{len(texts)} phrase(s) for “{self.label()}”" if self.label() else "") + note)

    def add_typed(self) -> None:
        text = " ".join(self.edit.text().split())
        if not text or self.store is None or not self.label():
            return
        if self._change(lambda: self.store.texts.add_phrases(self.label(), [text])):
            self.edit.clear()
            self.message.emit(f"Added “{text}” to {self.label()}.", "info")

    def remove_selected(self) -> None:
        pairs = [(self.label(), item.text()) for item in self.list.selectedItems()]
        if pairs and self._change(lambda: self.store.texts.remove_phrases(pairs)):
            self.message.emit(f"Removed {len(pairs)} phrase(s) from {self.label()}.", "info")

    def _change(self, change) -> bool:
        """Run one change to phrases.csv; a refusal (bad label, busy dataset…) is shown, never raised."""
        try:
            change()
        except IntentDeskError as error:
            self.message.emit(str(error), "error")
            return False
        finally:
            self.show_phrases()
        return True
