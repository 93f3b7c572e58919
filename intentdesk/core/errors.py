"""User-facing errors: each one says what is wrong, where, and what to do about it."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """`text` with control characters (a newline in a file name...) escaped, so a message stays one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def first_line(error: BaseException | str, limit: int = 200) -> str:
    """The first line of an error, shortened at a word boundary with an ellipsis; the error's type
    name when it has no message (`str(KeyError())` is empty: `.splitlines()[0]` would raise there)."""
    text = str(error).strip()
    first = text.splitlines()[0].strip() if text else (type(error).__name__ if isinstance(error, BaseException)
                                                        else "unknown error")
    if len(first) <= limit:
        return first
    cut = first[:limit + 1].rsplit(None, 1)[0] if " " in first[:limit + 1] else first[:limit]
    return cut.rstrip(" ,;:.(") + "…"


class IntentDeskError(Exception):
    """Base class for problems caused by the user's input rather than by a bug.

    The CLI prints these as one line and exits with code 2; the GUI shows them in a dialog.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


class AudioError(IntentDeskError):
    """An audio file or buffer that cannot be used (unreadable, empty, too short, silent...)."""

    def __init__(self, source: str, problem: str, hint: str = "") -> None:
        self.source = source
        self.problem = problem
        self.hint = hint
        message = f"{printable(source)}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class AudioTooLong(AudioError):
    """A clip longer than the limit in force (the service answers 413 for it, not 400)."""


class DatasetError(IntentDeskError):
    """A dataset folder or an import source that cannot be used as asked."""


class ModelError(IntentDeskError):
    """A model folder or hub id that cannot be loaded, or a model that cannot do what is asked."""


class ModelUnavailable(ModelError):
    """A model that one part needs (a recogniser, a text encoder) cannot be loaded.

    `problem` says why, `hint` what to do in the caller's situation; a caller with other advice
    (training rather than classifying) uses `problem` with its own hint instead of editing the text.
    """

    def __init__(self, problem: str, hint: str) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(f"{problem}; {hint}")


def problem_of(error: Exception) -> str:
    """What went wrong, without the advice a `ModelUnavailable` carries for another situation."""
    return error.problem if isinstance(error, ModelUnavailable) else str(error)


class TrainingError(IntentDeskError):
    """Settings or data that make training impossible (one class, too few clips, ...)."""


class DiskFull(IntentDeskError):
    """A write stopped because the disk (or the user's quota) is full. One message wherever it
    happens (an import, a model save, a cache): which disk, how much is free, what was left as it
    was. Not a `DatasetError`, so no per-file handler takes it for a bad file and carries on.

    `free_bytes` is measured by the caller once its cleanup ran (`core.files.stop_when_disk_full`)."""

    def __init__(self, folder: object, free_bytes: int | None, outcome: str) -> None:
        self.folder = folder
        self.outcome = outcome
        free = "" if free_bytes is None else f" ({_megabytes(free_bytes)} free)"
        super().__init__(f"the disk holding {folder} is full{free}: free some space and try again; {outcome}")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 10e6 else f"{size / 1e6:,.0f} MB"
