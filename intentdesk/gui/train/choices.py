"""What the Train form remembers between runs and restarts: the recent base models, and whether the last run
learned from the words and with which recogniser and encoder (a words user wants them again)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from intentdesk.core.learning.settings import TrainSettings, words_unavailable
from intentdesk.core.models.hub import DEFAULT_BASE_MODEL
from intentdesk.gui.train.form import SettingsForm
from intentdesk.gui.train.run_job import WORDS_ROLES

RECENT_BASES = "train/bases"
WORDS_CHOICES = ("words", "asr", "text_encoder")  # remembered as train/<name>


def recent_bases(settings: QSettings) -> list[str]:
    recent = settings.value(RECENT_BASES, [DEFAULT_BASE_MODEL])
    return [recent] if isinstance(recent, str) else list(recent or [DEFAULT_BASE_MODEL])


class FormChoices:
    """Reads the choices into the form at start, and writes them when a run starts (`remember`)."""

    def __init__(self, settings: QSettings, form: SettingsForm) -> None:
        self.settings, self.form = settings, form

    def remember(self, base: str) -> None:
        combo = self.form.base_combo
        items = [base] + [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i) != base]
        self.settings.setValue(RECENT_BASES, items[:8])
        for name in WORDS_CHOICES:
            if name in self.form.fields:
                self.settings.setValue(f"train/{name}", self.form.fields[name].value())

    def restore(self) -> None:
        """The words choices of the last run; never chosen: on when the recogniser and encoder are here."""
        for name in WORDS_CHOICES:
            value = self.settings.value(f"train/{name}")
            if value is not None and name in self.form.fields:
                field = self.form.fields[name]
                field.set(str(value).lower() in ("true", "1") if field.kind is bool else str(value))
        words = self.form.fields.get("words")
        if words is not None and self.settings.value("train/words") is None:
            missing = words_unavailable(TrainSettings(**{role.key: self.form.fields[role.key].value()
                                                         for role in WORDS_ROLES if role.key in self.form.fields}))
            words.set(missing is None)
            if missing:
                words.widget.setToolTip(f"{words.spec.help}\n\nOff for now: {missing}. File > Models… gets it.")
