"""After a run that learned from the words too: its three scores side by side (sound only, words only,
together) and buttons that show one part's full results. metrics.json keeps them under `sound`,
`words` and `fused`; its top-level scores are the fused ones then."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from intentdesk.gui.common.wording import percent

PARTS = (  # (key in metrics.json, button text, what it means)
    ("fused", "Together (sound + words)", "The sound model and the words model combined: what Classify uses."),
    ("sound", "Sound only", "The sound model alone (what transformers' audio-classification pipeline gives)."),
    ("words", "Words only", "Only what was said: the recogniser's transcript, read by the words model."),
)
NOTE = ("The words model is trained after the sound model, on the clips' transcripts and your example phrases; "
        "its weight in the combination is chosen on the test clips.")


def parts_of(metrics: dict) -> dict[str, dict]:
    """The parts a run measured separately (empty for a sound-only run), each with the run's other facts."""
    found = {key: metrics[key] for key, _text, _tip in PARTS
             if isinstance(metrics.get(key), dict) and metrics[key].get("accuracy") is not None}
    if not found:
        return {}
    base = {key: value for key, value in metrics.items() if key not in found}
    return {key: {**base, **part} for key, part in found.items()}


def comparison_html(parts: dict[str, dict]) -> str:
    """One row per part: the share right as a bar and a percentage (rounded as the summary under it
    rounds: 220 of 221 is 99.5% in both), and the macro-F1."""
    rows = ""
    for key, text, tip in PARTS:
        part = parts.get(key)
        if part is None:
            continue
        accuracy, macro = part.get("accuracy") or 0.0, (part.get("f1") or {}).get("macro")
        bar = "█" * round(accuracy * 20) + "░" * (20 - round(accuracy * 20))
        weight = "<b>%s</b>" if key == "fused" else "%s"
        rows += (f"<tr><td title='{tip}'>{weight % text}</td><td style='color:#2a9d4b'>{bar}</td>"
                 f"<td align=right>{weight % percent(accuracy)}</td>"
                 f"<td align=right>{'' if macro is None else f'{macro:.3f}'}</td></tr>")
    return (f"<table cellpadding=2><tr><th align=left>part</th><th></th><th>right</th><th>macro-F1</th></tr>"
            f"{rows}</table>")


class PartsChooser(QWidget):
    """Hidden for a sound-only run. `chosen(key)` when the user asks for one part's full results."""

    chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.comparison = QLabel()
        self.comparison.setTextFormat(Qt.RichText)
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.addWidget(QLabel("Show the results of:"))
        for key, text, tip in PARTS:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.clicked.connect(lambda _checked=False, key=key: self.chosen.emit(key))
            self.group.addButton(button)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.comparison)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.hide()

    def show_parts(self, parts: dict[str, dict], current: str) -> None:
        self.setVisible(bool(parts))
        if not parts:
            return
        self.comparison.setText(comparison_html(parts))
        for key, button in self.buttons.items():
            button.setVisible(key in parts)
            button.setChecked(key == current)

    def current(self) -> str | None:
        return next((key for key, button in self.buttons.items() if button.isChecked()), None)
