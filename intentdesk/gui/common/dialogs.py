"""Where file dialogs start: the folder the user last chose in one of the same kind, else their home folder.

Without a start folder Qt opens the process's working folder, which for a packaged app or a
terminal launch is the program's own folder: a newcomer's audio and models are never there.
Where things are exported is remembered apart from where audio comes from (an export opened in the folder of
the last import, someone else's recordings, was no place for results), and model folders apart from both.
"""

from __future__ import annotations

from pathlib import Path

from intentdesk.core.audio.io import AUDIO_EXTENSIONS

FILES = "files"  # audio and folders to import: where the user's recordings are
MODELS = "models"  # model folders (base, recogniser, encoder, a trained one): kept apart from audio, or Open
# audio… opened in the text encoder's folder
EXPORTS = "exports"  # what the app writes for the user (results CSV)
_last_folders: dict[str, Path] = {}
# What an "open audio" dialog lists: the suffixes the importer and Classify take, then anything.
AUDIO_FILTER = f"Audio ({' '.join('*' + suffix for suffix in AUDIO_EXTENSIONS)});;All files (*)"


def start_folder(name: str = "", kind: str = FILES) -> str:
    """The folder to open a `kind` dialog in (with `name` appended, for a Save dialog's suggested file)."""
    last = _last_folders.get(kind)
    folder = last if last is not None and last.is_dir() else Path.home()
    return str(folder / name) if name else str(folder)


def remember(chosen: str | Path, kind: str = FILES) -> None:
    """Note the user's choice (a folder, or a file whose folder counts) for the next `kind` dialog."""
    path = Path(chosen)
    _last_folders[kind] = path if path.is_dir() else path.parent


def choose_model_folder(parent, title: str) -> str:
    """A folder dialog for a model folder, opened where the last model folder was chosen and remembering this one
    (apart from audio: `MODELS`); "" when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(parent, title, start_folder(kind=MODELS))
    if folder:
        remember(folder, MODELS)
    return folder
