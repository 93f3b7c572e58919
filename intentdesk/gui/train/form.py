"""The Train settings form, generated from `SETTING_SPECS`: a new training setting appears here with no GUI change.

Each setting's label, tooltip (its help), bounds, step, decimals, suffix and choices come from its
`SettingSpec`; `advanced` puts it in the Advanced group; `mode_default` makes it follow the
chosen mode's default (MODE_DEFAULTS) when the mode changes, unless the person typed a value of
their own (that one is kept, and the note line says what was set). Only the base model (a
remembered list plus a folder button) and the mode (two explained radio buttons) are laid out
by hand, with their label and help still taken from their specs.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.learning.eta import MEASURED_CLIP_S, first_quick_seconds
from intentdesk.core.learning.settings import MODE_DEFAULTS, SETTING_SPECS, TrainSettings, hearings_per_training_clip
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.wheel_guard import wheel_only_when_focused
from intentdesk.gui.common.wording import count, duration
from intentdesk.gui.train.setting_field import SettingField, changed_signal, plain_number, short_name

HAND_LAID = ("base_model", "mode")
WORDS_PARTS = ("asr", "text_encoder")  # used only when "words" is ticked: greyed out otherwise
PART_NAMES = {"asr": "speech recogniser", "text_encoder": "text encoder"}  # for the Folder… buttons
MODE_TEXTS = {  # plain words for the two modes; what we measured is in the tooltip (the mode's spec help)
    "quick": "Quick: only the model's last layer learns (fastest)",
    "full": "Full: then adapts the whole model (much longer)",
}
AGAIN_TEXT = "The same clips again: seconds, or minutes while the computer is busy."
LOCKED_NOTE = "Settings are locked while training."
ADVANCED_HELP = ("The defaults suit most datasets. Tick the box to see and change them; "
                 "rest the mouse on a setting to read what it does.")
ADVANCED_OPEN_HELP = "The defaults suit most datasets. Rest the mouse on a setting to read what it does."


def quick_time_text(base_model: str, clips: int, eval_share: float, variants: int) -> str:
    """How long Quick's first run takes for these clips with this base model, where that was measured
    (`core.learning.eta.first_quick_seconds`: BENCHMARKS.md section 9), else what it depends on."""
    seconds = first_quick_seconds(base_model, clips, eval_share, variants)
    if seconds is None:
        return ("The first run is the long part: the base model listens to every clip once (longer for more "
                f"clips and larger models). {AGAIN_TEXT}")
    tens = 10 * round(seconds / 10)  # no false precision, and "1 min" rather than "1 min 00 s"
    rough = duration(tens) if seconds < 120 and tens % 60 else f"{round(seconds / 60)} min"
    return (f"First Quick run on these {count(clips, 'clip')}: about {rough} (measured on 2 processor cores, "
            f"clips of about {MEASURED_CLIP_S:g} s). {AGAIN_TEXT}")


class SettingsForm(QWidget):
    """Base model, mode, the basic settings and a checkable Advanced group, all from the specs."""

    base_changed = Signal()
    words_changed = Signal(bool)  # "Also learn from the words" ticked or unticked

    def __init__(self, recent_bases: list[str], parent=None) -> None:
        super().__init__(parent)
        self.fields = {f.name: SettingField(f.name, SETTING_SPECS[f.name])
                       for f in fields(TrainSettings) if f.name not in HAND_LAID}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        basic_box = QGroupBox("Settings")
        basic = QFormLayout(basic_box)
        self.dataset_label = QLabel()
        self.dataset_label.setWordWrap(True)
        basic.addRow("Dataset:", self.dataset_label)
        basic.addRow(self._row_label("base_model"), self._base_row(recent_bases))
        basic.addRow(self._row_label("mode"), self._mode_buttons())
        self.time_hint = QLabel()  # how long Quick's first run takes for this dataset and base model
        self.time_hint.setWordWrap(True)
        self.time_hint.setStyleSheet("color: #555;")
        basic.addRow("", self.time_hint)
        self._clips = 0
        advanced = self._advanced_group()
        self._folder_buttons: dict[str, QPushButton] = {}
        for name, setting in self.fields.items():
            target = advanced if setting.spec.advanced else basic
            target.addRow("" if setting.kind is bool else self._row_label(name), self._field_row(name, setting))
        self.note = QLabel()  # what the last mode change set, or that the settings are locked
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self._mode_note = ""
        self._boxes = (basic_box, self.advanced)
        layout.addWidget(basic_box)
        layout.addWidget(self.note)
        layout.addWidget(self.advanced)
        self._mode: str | None = None
        self._mode_changed()
        self._connect_words()
        self.base_combo.currentTextChanged.connect(self._show_time_hint)
        for name in ("eval_share", "speed_perturbation", "quick_layers"):
            changed_signal(self.field(name)).connect(self._show_time_hint)
        self._show_time_hint()

    def set_clip_count(self, clips: int) -> None:
        """The dataset's size, for the time the first Quick run takes."""
        self._clips = clips
        self._show_time_hint()

    def _show_time_hint(self, *_args) -> None:
        self.time_hint.setText(quick_time_text(self.base_model(), self._clips, self.fields["eval_share"].value(),
                                               self._variants()))

    def _variants(self) -> int:
        """Features per training clip: the clip and the copies of it played slower or faster."""
        try:
            return hearings_per_training_clip(self.fields["speed_perturbation"].value(),
                                              self.fields["quick_layers"].value())
        except ValueError:  # being typed: the form names the problem
            return 1

    def set_locked(self, locked: bool) -> None:
        """Greyed while a run trains (changes would not apply to it), with a line that says so."""
        for box in self._boxes:
            box.setEnabled(not locked)
        self.note.setText(LOCKED_NOTE if locked else self._mode_note)

    def _connect_words(self) -> None:
        """The recogniser and encoder fields follow the words box (greyed out while it is unticked)."""
        words = self.fields.get("words")
        if words is None:
            return
        words.widget.toggled.connect(self._words_toggled)
        self._words_toggled(words.widget.isChecked())

    def _words_toggled(self, on: bool) -> None:
        for name in (*WORDS_PARTS, "language"):
            if name in self.fields:
                self.fields[name].widget.setEnabled(on)
                if name in self._folder_buttons:
                    self._folder_buttons[name].setEnabled(on)
        self.words_changed.emit(on)

    def uses_words(self) -> bool:
        return "words" in self.fields and bool(self.fields["words"].value())

    def _advanced_group(self) -> QFormLayout:
        """A checkable group, folded while unticked (the defaults apply), so Start stays in view."""
        self.advanced = QGroupBox("Advanced settings")
        self.advanced.setCheckable(True)
        explanation = QLabel(ADVANCED_HELP)
        explanation.setWordWrap(True)
        inner = QWidget()
        self._advanced_fields = inner
        column = QVBoxLayout(self.advanced)
        column.addWidget(explanation)
        column.addWidget(inner)
        self.advanced.toggled.connect(inner.setVisible)
        self.advanced.toggled.connect(lambda on: explanation.setText(ADVANCED_OPEN_HELP if on else ADVANCED_HELP))
        self.advanced.setChecked(False)
        inner.setVisible(False)
        form = QFormLayout(inner)
        form.setContentsMargins(0, 0, 0, 0)
        return form

    @contextlib.contextmanager
    def unfolded(self):
        """The advanced settings shown for the block (before the window is: nothing is drawn), to size
        what holds the form for them too: ticking the box then widens nothing."""
        hidden = self._advanced_fields.isHidden()
        self._advanced_fields.setVisible(True)
        try:
            yield
        finally:
            self._advanced_fields.setVisible(not hidden)

    def _field_row(self, name: str, setting: SettingField):
        """The setting's widget; the recogniser and encoder get a Folder… button beside it, as the
        base model has (offline, a local folder is the only way to use words)."""
        if name not in WORDS_PARTS:
            return setting.widget
        browse = QPushButton("Folder…")
        browse.setToolTip(f"Choose a {PART_NAMES[name]} folder on this computer")
        browse.clicked.connect(lambda: self._choose_folder_for(name))
        self._folder_buttons[name] = browse
        row = QHBoxLayout()
        row.addWidget(setting.widget, 1)
        row.addWidget(browse)
        return row

    def _choose_folder_for(self, name: str) -> None:
        folder = dialogs.choose_model_folder(self, f"Choose a {PART_NAMES[name]} folder")
        if folder:
            self.fields[name].set(folder)

    def _row_label(self, name: str) -> QLabel:
        label = QLabel(SETTING_SPECS[name].label + ":")
        label.setToolTip(SETTING_SPECS[name].help)
        return label

    def _base_row(self, recent: list[str]) -> QHBoxLayout:
        self.base_combo = wheel_only_when_focused(QComboBox(editable=True))
        self.base_combo.addItems(recent)
        self.base_combo.setToolTip(SETTING_SPECS["base_model"].help)
        self.base_combo.currentTextChanged.connect(self.base_changed)
        browse = QPushButton("Folder…")
        browse.setToolTip("Choose a model folder on this computer")
        browse.clicked.connect(self.choose_base_folder)
        row = QHBoxLayout()
        row.addWidget(self.base_combo, 1)
        row.addWidget(browse)
        return row

    def _mode_buttons(self) -> QVBoxLayout:
        choices = SETTING_SPECS["mode"].choices
        ordered = [mode for mode in MODE_TEXTS if mode in choices] + [m for m in choices if m not in MODE_TEXTS]
        self.mode_buttons = {mode: QRadioButton(MODE_TEXTS.get(mode, mode)) for mode in ordered}
        group = QButtonGroup(self)
        column = QVBoxLayout()
        for button in self.mode_buttons.values():
            button.setToolTip(SETTING_SPECS["mode"].help)
            group.addButton(button)
            column.addWidget(button)
        self.mode_buttons["quick"].setChecked(True)
        group.buttonToggled.connect(lambda _button, checked: checked and self._mode_changed())
        return column

    def _mode_changed(self) -> None:
        """Settings that depend on the mode take the new mode's default, except values the person typed
        (kept); the note line says which were set and which kept, and the tooltips the defaults."""
        mode, previous = self.mode(), self._mode
        set_now, kept = [], []
        for name, setting in self.fields.items():
            if not setting.spec.mode_default:
                continue
            if setting.typed and previous is not None:
                kept.append(f"{short_name(setting.spec)} {plain_number(setting)}")
            else:
                setting.set(MODE_DEFAULTS[mode][name])
                set_now.append(f"{short_name(setting.spec)} {plain_number(setting)}")
            defaults = ", ".join(f"{m}: {values[name]:g}" for m, values in MODE_DEFAULTS.items())
            setting.widget.setToolTip(f"{setting.spec.help}\nSet to the mode's default when the mode "
                                      f"changes, unless you typed your own ({defaults}).")
        self._mode = mode
        if previous is not None and previous != mode:
            title = MODE_TEXTS.get(mode, mode).split(":")[0]
            parts = [f"Set for {title}: {', '.join(set_now)}"] if set_now else []
            parts += [f"kept what you typed: {', '.join(kept)}"] if kept else []
            self._mode_note = "; ".join(parts) + "."
            self.note.setText(self._mode_note)

    # ------------------------------------------------------------------ reading and choosing
    def field(self, name: str) -> QWidget:
        """The widget of one setting (tests and the screenshot drive the form through these)."""
        return self.fields[name].widget

    def mode(self) -> str:
        return next(mode for mode, button in self.mode_buttons.items() if button.isChecked())

    def set_mode(self, mode: str) -> None:
        self.mode_buttons[mode].setChecked(True)

    def base_model(self) -> str:
        return self.base_combo.currentText().strip()

    def choose_base_folder(self) -> None:
        folder = dialogs.choose_model_folder(self, "Choose a Hugging Face model folder")
        if folder:
            self.base_combo.setCurrentText(folder)

    def problems(self) -> list[str]:
        """Values typed into the form that cannot be used, each a sentence."""
        return [problem for setting in self.fields.values() if (problem := setting.problem())]

    def settings(self) -> TrainSettings:
        """The run's settings as the form shows them (call `problems()` first)."""
        values = {name: setting.value() for name, setting in self.fields.items()}
        return TrainSettings(base_model=self.base_model(), mode=self.mode(), **values)
