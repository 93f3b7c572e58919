"""Make an app for others…: the Runs list's export of one run as an app that opens on Classify, in a worker.

Asks where to save (a Save dialog; tests replace `ask_where`), runs `core.packaging.export_app` as a
job (copying a packaged app is hundreds of MB: never on the GUI thread), shows its progress with
Cancel, and ends saying where the file is and how large, or why there is none.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from intentdesk.core.events import StageEvent
from intentdesk.core.json_files import size_text
from intentdesk.core.packaging import archive
from intentdesk.core.packaging.export_app import top_folder_name
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.jobs import OneJob, stop_jobs
from intentdesk.gui.common.widgets import BusyRow

BUTTON_TEXT = "Make an app for others…"
BUTTON_TIP = ("Save one file that opens straight onto Classify with this model, for someone who will not "
              "train: they unpack it and open IntentDesk in it (no Python, no internet needed)")
CANCEL_WAIT_MS = 60_000  # a copy stops at its next file; the build script at its next line


def run_export(model_dir: Path, out: Path, emit, cancel) -> Path:
    """Runs in a worker: imported there, so the Train tab opens without the packaging code."""
    from intentdesk.core.packaging.export_app import export_app

    return export_app(model_dir, out, on_event=emit, cancel=cancel)


class AppExport(QWidget):
    """The export's row: what it is doing, a bar, Cancel; afterwards the file it wrote (or why none).

    `failed` carries the reason an export did not write its file; `finished_file` the file written."""

    failed = Signal(str)
    finished_file = Signal(str)
    job_changed = Signal()  # an export started or ended

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.slot = OneJob(self, self._show_running)
        self.busy = BusyRow()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop making the app; no file is left behind")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)  # the path can be copied
        self.result.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.busy, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)

    @property
    def running(self) -> bool:
        return self.slot.busy

    def ask_where(self, suggested: str) -> str:
        """The Save dialog (tests replace this method); "" when cancelled."""
        formats = "zstd archive (*.tar.zst);;gzip archive (*.tar.gz)" if archive.zstd_available() \
            else "gzip archive (*.tar.gz)"
        chosen, _ = QFileDialog.getSaveFileName(self, "Make an app for others: where to save it",
                                                dialogs.start_folder(suggested, dialogs.EXPORTS), formats)
        return chosen

    def start(self, model_dir: Path) -> bool:
        """Ask where, then export `model_dir` in the background; False when not started."""
        if self.slot.busy:
            return False
        suffix = archive.ZSTD if archive.zstd_available() else archive.GZIP
        chosen = self.ask_where(top_folder_name(Path(model_dir).name) + suffix)
        if not chosen:
            return False
        dialogs.remember(chosen, dialogs.EXPORTS)
        out = Path(chosen)
        self.result.hide()
        self.busy.show_busy(f"Making the app for {Path(model_dir).name}…")
        self.slot.start(lambda emit, cancel: run_export(Path(model_dir), out, emit, cancel),
                        self._succeeded, self._failed, self._progress)
        return True

    def cancel(self) -> None:
        if self.slot.cancel():
            self.cancel_button.setEnabled(False)
            self.busy.show_busy("Cancelling…")

    def _progress(self, event) -> None:
        if isinstance(event, StageEvent) and event.stage:
            self.busy.show_busy(event.stage, event.step, event.total)

    def _succeeded(self, out: Path) -> None:
        self._show_result(f"Saved {out} ({size_text(out.stat().st_size)}). Send this one file: the other person "
                          f"unpacks it and opens IntentDesk in its folder, which opens on Classify with this model.")
        self.finished_file.emit(str(out))

    def _failed(self, message: str) -> None:
        if self.slot.cancelled:
            self._show_result("Cancelled: no file was written.")
            return
        self._show_result("")
        self.failed.emit(f"The app was not made: {message}")

    def _show_result(self, text: str) -> None:
        self.result.setText(text)
        self.result.setToolTip(text)
        self.result.setVisible(bool(text))

    def _show_running(self, running: bool) -> None:
        """Cancel while an export runs; the progress row goes when it has ended."""
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if not running:
            self.busy.show_busy("")
        self.job_changed.emit()

    def shutdown(self) -> None:
        """Cancel an export and wait for it (a copy stops at its next file)."""
        stop_jobs(self, CANCEL_WAIT_MS)
        self.slot.release()
