"""Bringing audio into the dataset from the Label tab: dropped files and folders, and File > Import.

An import runs in the background behind a strip that says what is happening; the tab stays
usable, and a hub import can be cancelled (nothing is added then).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QStackedWidget, QWidget

from intentdesk.core.audio.io import audio_files_under
from intentdesk.core.data.importers import check_source, import_hub, import_into, needs_a_label
from intentdesk.core.data.store import DatasetStore, ImportReport
from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.common.jobs import Job, start_job
from intentdesk.gui.common.wording import count

NAMES_SHOWN = 3  # of the clips an import added, named in its message
ImportWork = Callable[[Callable[[object], None], threading.Event], ImportReport]


class ImportCancelled(IntentDeskError):
    """The user cancelled before anything was written."""


def drop_work(store: DatasetStore, paths: list[Path], label: str | None) -> ImportWork:
    """Folders import as `intentdesk import` imports them (another dataset; label folders; a folder
    named after its clips' label); loose files, and folders whose name cannot be a label, get `label`."""
    files = [p for p in paths if p.is_file()]
    folders = [p for p in paths if p.is_dir()]

    def work(_emit, _cancel) -> ImportReport:
        for folder in folders:
            check_source(str(folder), store.root)  # never the dataset itself, nor a folder around it
        loose = [(f, label, {}) for f in files]
        report = ImportReport()
        for folder in folders:
            if needs_label([folder]):
                loose += [(f, label, {}) for f in audio_files_under(folder, recursive=True)]
            else:
                report.merge(import_into(store, str(folder)))
        return report.merge(store.add_files(loose)) if loose else report

    return work


def needs_label(paths: list[Path]) -> bool:
    """True when some dropped item brings no label of its own: a file, or a folder without label
    folders whose name cannot be a label."""
    return any(p.is_file() or (p.is_dir() and needs_a_label(p)) for p in paths)


def source_work(store: DatasetStore, source: str, config: str | None) -> tuple[ImportWork, bool]:
    """File > Import: a local folder, or a hub dataset whose download can be cancelled (then True)."""
    if check_source(source, store.root) is not None:
        return (lambda _emit, _cancel: import_into(store, source)), False

    def work(_emit, cancel: threading.Event) -> ImportReport:
        def load(*args, **kwargs):
            import datasets

            data = datasets.load_dataset(*args, **kwargs)
            if cancel.is_set():  # the download cannot be interrupted; its result can be dropped
                raise ImportCancelled("import cancelled: nothing was added")
            return data

        return import_hub(store, source, config=config, loader=load)

    return work, True


def report_text(report: ImportReport) -> tuple[str, str]:
    """What an import did, in words, and the message kind that suits it: the clips added (the first few
    by name and label), those not added again, and each file skipped and each warning with its reason,
    so the message's line tells it without a click (all of it under Details…)."""
    added = report.added
    names = ", ".join(f"{clip.name} ({clip.label})" for clip in added[:NAMES_SHOWN])
    more = ", …" if len(added) > NAMES_SHOWN else ""
    first = f"Added {count(len(added), 'clip')}" + (f": {names}{more}." if added else ".")
    if report.duplicates:
        were = "was" if len(report.duplicates) == 1 else "were"
        first += f" {count(len(report.duplicates), 'file')} already in the dataset {were} not added again."
    lines = [first]
    if report.skipped:
        lines.append(f"Skipped {count(len(report.skipped), 'file')} that could not be read:")
        lines += report.skipped[:10]
    lines += report.warnings[:10]
    if not report.skipped and not report.warnings:
        return "\n".join(lines), "info"
    return "\n".join(lines), "warning" if report.added or report.duplicates else "error"


class ImportStrip(QStackedWidget):
    """Under the clip list: the drop hint, or while importing a busy bar, what is being imported,
    and Cancel (only where cancelling can work). Both take the same room, so nothing moves."""

    finished = Signal(object)  # the ImportReport, once an import has added its clips
    failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        hint = QLabel("Drop audio files or folders here to add them.")
        hint.setStyleSheet("color: #666;")
        self.addWidget(hint)
        self.busy_row = QWidget()
        layout = QHBoxLayout(self.busy_row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = QLabel()
        self.text.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long name never widens the window
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: the importers do not report a fraction
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.bar)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.cancel_button)
        self.addWidget(self.busy_row)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, what: str, work: ImportWork, cancellable: bool) -> None:
        self.text.setText(what)
        self.text.setToolTip(what)
        self.cancel_button.setVisible(cancellable)
        self.setCurrentWidget(self.busy_row)
        self.job = start_job(self, work, self._succeeded, self._failed)

    def cancel(self) -> None:
        """Stop waiting: the strip goes at once; the import adds nothing when its download ends."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
            self.setCurrentIndex(0)
            self.failed.emit("Import cancelled: nothing was added.")

    def _succeeded(self, report: ImportReport) -> None:
        if self.sender() is self.job:
            self._done()
        self.finished.emit(report)  # also when Cancel came too late: the clips are there

    def _failed(self, message: str) -> None:
        if self.sender() is self.job:  # not a cancelled job: that one was already reported
            self._done()
            self.failed.emit(message)

    def _done(self) -> None:
        self.job = None
        self.setCurrentIndex(0)
