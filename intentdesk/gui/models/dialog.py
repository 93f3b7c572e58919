"""The Models dialog: one row per model the app needs (base model, speech recogniser, text encoder) with
what is in use, whether it is there in plain words, Download (a progress bar and Cancel, in a job) and
Choose folder…. Every button that needs a model that is missing opens it, with the reason on top."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from intentdesk.core.models import catalogue
from intentdesk.core.models.catalogue import ROLES, DownloadProgress, Role, State
from intentdesk.core.models.hub import hub_is_offline
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.jobs import OneJob
from intentdesk.gui.models.choices import ModelChoices

INTRO = ("The models IntentDesk uses. Each one is downloaded once from the Hugging Face hub (it needs the "
         "internet that once), or chosen as a folder on this computer.")
COLOURS = {State.LOCAL: "#2a7a2a", State.DOWNLOADED: "#2a7a2a", State.BUNDLED: "#2a7a2a",
           State.NOT_DOWNLOADED: "#9a5b00", State.LOCAL_BAD: "#b02a2a"}
PROGRESS_STEPS = 1000  # the bar counts thousandths: byte counts overflow its int beyond 2 GB


def size_text(count: int) -> str:
    if count < 1_000_000:
        return f"{count / 1000:.0f} KB"
    return f"{count / 1e6:.0f} MB" if count < 1e9 else f"{count / 1e9:.1f} GB"


IN_USE_LINES, STATUS_LINES = 2, 3  # what a row keeps room for, whatever it says


def plain(label: QLabel) -> QLabel:
    """Folder names and hub ids are text, never HTML; long ones wrap."""
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    return label


class ModelRow(QGroupBox):
    """One role: what is in use and its status; Download, Choose folder…, Use the default.
    `downloaded` after a download that finished."""

    downloaded = Signal()

    def __init__(self, role: Role, choices: ModelChoices, parent=None) -> None:
        super().__init__(f"{role.title} — {role.purpose}", parent)
        self.role, self.choices = role, choices
        self.running = OneJob(self, self._show_running)
        self.in_use = plain(QLabel())
        self.status = plain(QLabel())
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.setToolTip(f"Use a {role.noun} folder on this computer (one saved with save_pretrained)")
        self.folder_button.clicked.connect(self.choose_folder)
        self.default_button = QPushButton("Use the default")
        self.default_button.setToolTip(f"{role.default}, from the Hugging Face hub")
        self.default_button.clicked.connect(lambda: self.choices.set(role.key, role.default))
        self.bar = QProgressBar()
        self.bar.setRange(0, PROGRESS_STEPS)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for widget in (self.download_button, self.folder_button, self.default_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.bar, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        # room for a long folder name and a long status from the start: a line more or less as a status
        # changes moved the buttons of every row below under the cursor
        spacing = self.status.fontMetrics().lineSpacing()
        for label, lines in ((self.in_use, IN_USE_LINES), (self.status, STATUS_LINES)):
            label.setMinimumHeight(lines * spacing)
            label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        column = QVBoxLayout(self)
        column.addWidget(self.in_use)
        column.addWidget(self.status)
        column.addLayout(buttons)
        self._show_running(False)
        self.refresh()

    @property
    def source(self) -> str:
        return self.choices.source(self.role.key)

    @property
    def busy(self) -> bool:
        return self.running.busy

    def refresh(self) -> None:
        """What is in use and where it stands (reads files only: quick)."""
        source = self.source
        default = " (the default)" if source == self.role.default else ""
        self.in_use.setText(f"In use: {source}{default}")
        if self.busy:
            return
        status = catalogue.status_of(self.role, source)
        self._say(status.text, COLOURS[status.state])
        self.download_button.setVisible(status.state is State.NOT_DOWNLOADED and not hub_is_offline())
        self.download_button.setToolTip(f"Download {source} from the Hugging Face hub")
        self.default_button.setVisible(source != self.role.default)

    def _say(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour};")

    # ------------------------------------------------------------------ choosing a folder
    def choose_folder(self) -> None:
        folder = dialogs.choose_model_folder(self, f"Choose a {self.role.noun} folder")
        if not folder:
            return
        status = catalogue.status_of(self.role, folder)
        if not status.ready:  # a folder that cannot be used changes nothing
            self._say(f"That folder cannot be used, so the {self.role.noun} in use is unchanged: {status.problem}",
                      COLOURS[State.LOCAL_BAD])
            return
        self.choices.set(self.role.key, folder)

    # ------------------------------------------------------------------ downloading
    def download(self) -> bool:
        if self.busy:
            return False
        repo_id = self.source
        self.bar.setValue(0)
        self._say(f"Asking the Hugging Face hub for {repo_id}…", "#555")
        self.running.start(lambda emit, cancel: catalogue.download(repo_id, emit, cancel),
                           self._downloaded, self._failed, self._progress)
        return True

    def cancel(self) -> None:
        if self.running.cancel():
            self.cancel_button.setEnabled(False)
            self._say("Cancelling… nothing half-downloaded is kept.", "#555")

    def _progress(self, progress: DownloadProgress) -> None:
        if not self.running.busy or self.running.cancelled:
            return
        of = f" of {size_text(progress.total)}" if progress.total else ""
        self.bar.setValue(round(PROGRESS_STEPS * progress.done / progress.total) if progress.total else 0)
        self._say(f"Downloading {progress.file} (file {progress.files_done + 1} of {progress.files_total}): "
                  f"{size_text(progress.done)}{of}", "#555")

    def _downloaded(self, folder) -> None:
        self.running.release()
        self.refresh()
        if folder is None:
            self._say("Download cancelled: nothing half-downloaded was kept. Download again to go on.",
                      COLOURS[State.NOT_DOWNLOADED])
        else:
            self.downloaded.emit()

    def _failed(self, message: str) -> None:
        self.running.release()
        self.refresh()
        self._say(f"Not downloaded: {message}", COLOURS[State.LOCAL_BAD])

    def _show_running(self, running: bool) -> None:
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        for button in (self.download_button, self.folder_button, self.default_button):
            button.setEnabled(not running)

    def shutdown(self) -> None:
        self.running.shutdown()


class ModelsDialog(QDialog):
    """Not modal: a download goes on while the person works; closing it hides it (and its downloads
    go on), `shutdown` stops them."""

    def __init__(self, choices: ModelChoices, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.choices = choices
        self.reason = plain(QLabel())
        self.reason.setStyleSheet("color: #9a5b00; font-weight: bold;")
        intro = plain(QLabel(INTRO))
        self.rows = {role.key: ModelRow(role, choices) for role in ROLES}
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.hide)
        column = QVBoxLayout(self)
        column.addWidget(self.reason)
        column.addWidget(intro)
        for row in self.rows.values():
            column.addWidget(row)
        column.addStretch()
        column.addWidget(close)
        choices.changed.connect(lambda key, _source: self._acted_on(key))
        for row in self.rows.values():
            row.downloaded.connect(lambda: self.show_reason(""))
        self.show_reason("")
        self.resize(760, self.sizeHint().height())

    def _acted_on(self, key: str) -> None:
        """A choice changed: its row shows it, and the reason the dialog opened for is no longer current."""
        self.rows[key].refresh()
        self.show_reason("")

    def show_reason(self, reason: str) -> None:
        """The one line that says why the dialog opened (what was missing for which button)."""
        text = reason[:1].upper() + reason[1:] if reason else ""
        self.reason.setText(text)
        self.reason.setVisible(bool(text))

    def open_with(self, reason: str = "") -> None:
        self.show_reason(reason)
        for row in self.rows.values():
            row.refresh()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))  # a reason line grows it
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        for row in self.rows.values():
            row.shutdown()

