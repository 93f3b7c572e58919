"""The models chosen for the whole app, remembered across restarts: what the Train form's model fields
show and change, and what Transcribe in the Label tab uses."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from intentdesk.core.models.catalogue import ROLE_BY_KEY

KEY = "models/{}"  # QSettings key of each role's choice (role keys are TrainSettings fields)


class ModelChoices(QObject):
    """One source (hub id or folder) per role; `changed(role key, source)` after each change."""

    changed = Signal(str, str)

    def __init__(self, settings: QSettings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings

    def source(self, key: str) -> str:
        stored = self.settings.value(KEY.format(key))
        return str(stored) if stored else ROLE_BY_KEY[key].default

    def is_stored(self, key: str) -> bool:
        return bool(self.settings.value(KEY.format(key)))

    def set(self, key: str, source: str) -> None:
        """Choose `source` for the role `key`; an empty text means the role's default."""
        source = source.strip() or ROLE_BY_KEY[key].default
        if source == self.source(key) and self.is_stored(key):
            return
        self.settings.setValue(KEY.format(key), source)
        self.changed.emit(key, source)


def bind_train_form(choices: ModelChoices, form) -> None:
    """The Train form's base model, recogniser and encoder fields show the choices, and typing in
    them (or their Folder… buttons) changes the choices. The form's own remembered values (from
    before this place existed) become the choices the first time."""
    editors: dict[str, tuple[Callable[[], str], Callable[[str], None], object]] = {
        "base_model": (form.base_combo.currentText, form.base_combo.setCurrentText,
                       form.base_combo.currentTextChanged)}
    for key in ("asr", "text_encoder"):
        if key in form.fields:
            edit = form.fields[key].widget
            editors[key] = (edit.text, edit.setText, edit.textChanged)
    for key, (read, write, edited) in editors.items():
        if not choices.is_stored(key):
            choices.set(key, read())
        _show(read, write, choices.source(key), key)
        edited.connect(lambda text, key=key: choices.set(key, text))
    choices.changed.connect(lambda key, source: key in editors and _show(*editors[key][:2], source, key))


def _show(read: Callable[[], str], write: Callable[[str], None], source: str, key: str) -> None:
    """Write `source` into a field unless it already means it (an emptied field means the default:
    rewriting it then would fight the person typing)."""
    if (read().strip() or ROLE_BY_KEY[key].default) != source:
        write(source)
