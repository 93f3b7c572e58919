"""Where file dialogs start: the folder the user last chose in one, else their home folder.

Without a start folder Qt opens the process's working folder, which for a packaged app or a
terminal launch is the program's own folder: a newcomer's audio and models are never there.
"""

from __future__ import annotations

from pathlib import Path

_last_folder: Path | None = None


def start_folder(name: str = "") -> str:
    """The folder to open a dialog in (with `name` appended, for a Save dialog's suggested file)."""
    folder = _last_folder if _last_folder is not None and _last_folder.is_dir() else Path.home()
    return str(folder / name) if name else str(folder)


def remember(chosen: str | Path) -> None:
    """Note the user's choice (a folder, or a file whose folder counts) for the next dialog."""
    global _last_folder
    path = Path(chosen)
    _last_folder = path if path.is_dir() else path.parent
