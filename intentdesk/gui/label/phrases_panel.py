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
from intentdesk.gui.common.wording import count
from intentdesk.gui.label.label_names import LabelNames

HELP = ("Type how people say each intent, instead of recording it. Training with words learns from these "
        "as well as from the clips' transcripts; an intent with typed phrases and no recordings is learned from "
        "the words alone, and a dataset of typed phrases only trains a model that understands speech by its "
        "words. Type a new intent's name in the box on the left to start one.")
TYPE_HINT = "type how people say it, Enter adds it"


class PhrasesPanel(QWidget):
    """Pick a label, type a sentence, Enter adds it; the label's phrases are listed with Remove.

    `message(text, kind)` reports what happened (the tab's message bar shows it)."""

    message = Signal(str, str)
    changed = Signal()  # phrases added or removed: an intent with typed phrases only may have come or gone

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: DatasetStore | None = None
        # a typed intent name is settled as a clip's label is ("Balance " is "balance", "balances" asks)
        self.label_names = LabelNames(self, self.choices)
        self.setToolTip(HELP)
        self.label_combo = QComboBox()
        self.label_combo.setEditable(True)  # a new intent can start with what people say, before any recording
        self.label_combo.setInsertPolicy(QComboBox.NoInsert)
        self.label_combo.lineEdit().setPlaceholderText("intent")
        self.label_combo.setMinimumWidth(120)
        self.label_combo.setToolTip("The intent these phrases belong to: choose one, or type a new intent's name")
        self.label_combo.currentTextChanged.connect(lambda _label: self.show_phrases())
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(TYPE_HINT)
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
        self.list.itemSelectionChanged.connect(self._selection_changed)
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
        """The labels to choose from, with those that have typed phrases only (the current choice stays)."""
        pairs = self.all_phrases()  # read once for the choices and the list below
        labels = list(labels) + sorted({label for label, _ in pairs} - set(labels))
        current = self.label_combo.currentText()
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItems(labels)
        self.label_combo.setCurrentText(current if current in labels or not labels else labels[0])
        self.label_combo.blockSignals(False)
        for widget in (self.label_combo, self.edit, self.add_button, self.list):
            widget.setEnabled(self.store is not None)
        self.edit.setPlaceholderText(TYPE_HINT if labels else "type an intent's name on the left, then how people "
                                                              "say it here")
        self.show_phrases(pairs)

    def label(self) -> str:
        return self.label_combo.currentText()

    def choices(self) -> list[str]:
        """The labels offered: the dataset's, then those with typed phrases only."""
        return [self.label_combo.itemText(i) for i in range(self.label_combo.count())]

    def all_phrases(self) -> list[tuple[str, str]]:
        """Every (label, text) of phrases.csv; [] (and the reason shown) when it cannot be read."""
        if self.store is None:
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

    def show_phrases(self, pairs: list[tuple[str, str]] | None = None) -> None:
        """List the shown label's phrases; `pairs`: phrases.csv as just read (else it is read now)."""
        pairs = self.all_phrases() if pairs is None else pairs
        texts = self._of_shown_label(pairs)
        self.list.clear()
        self.list.addItems(texts)
        recorded = set(self.store.labels()) if self.store is not None else set()
        typed_only = sorted({label for label, _ in pairs if label not in recorded})
        note = (f"Intents typed only, with no recordings yet: {', '.join(typed_only[:3])}"
                f"{'…' if len(typed_only) > 3 else ''} (learned from the words alone when training with words)"
                if typed_only else "")
        this = f"{count(len(texts), 'phrase')} typed for “{self.label()}”" if self.label() else ""
        self.count.setText("\n".join(line for line in (this, note) if line))  # two lines: neither reads as the other
        self._selection_changed()

    def add_typed(self) -> None:
        text = " ".join(self.edit.text().split())
        if not text or self.store is None or not self.label().strip():
            return
        label = self.label_names.settle(self.label())
        if label is None:  # "Did you mean …?" answered Cancel: back to the intent's name
            self.label_combo.setFocus()
            return
        self.label_combo.setCurrentText(label)  # as stored, so its phrases are the ones listed
        if self._change(lambda: self.store.texts.add_phrases(label, [text])):
            self.edit.clear()
            self.message.emit(f"Added “{text}” to {label}.", "info")
            if self.label_combo.findText(label) < 0:  # a new intent, typed before any recording
                self.set_labels(self.store.labels())
                self.label_combo.setCurrentText(label)

    def _selection_changed(self) -> None:
        """Remove is offered only with phrases selected (clicked with none, it did nothing and said nothing)."""
        self.remove_button.setEnabled(self.store is not None and bool(self.list.selectedItems()))
        self.remove_button.setToolTip("Remove the selected phrases" if self.list.selectedItems() else
                                      "Select phrases in the list to remove them")

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
        self.changed.emit()
        return True
