"""Transcripts for the clips: the "Transcribe clips" button, its progress and Cancel, and the automatic
run after recording or import (when ticked: only the clips just added). The work is
`core.words.transcribe.transcribe_dataset`."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.models.hub import DEFAULT_RECOGNISER
from intentdesk.gui.common.jobs import OneJob

AUTO_HELP = ("Transcribe each new clip in the background as it is recorded or imported, so training "
             "with words finds the transcripts ready. Only the clips just added: Transcribe clips does the rest.")


@dataclass(frozen=True)
class NeedsModel:
    """What `run_transcription` gives when the recogniser is not there: why, in one line."""

    reason: str


def run_transcription(store: DatasetStore, recogniser: str, emit, cancel,
                      clips: list[str] | None = None) -> int | NeedsModel:
    """Runs in the worker (the recogniser imports torch): transcribe the clips that have none yet (with
    `clips`, only those file names). First whether the recogniser is there (offline, the hub's retries
    took 30 s before a cut-off message)."""
    from intentdesk.core.models.catalogue import RECOGNISER, missing_reason
    from intentdesk.core.words.transcribe import transcribe_dataset

    reason = missing_reason(RECOGNISER, recogniser)
    if reason:
        return NeedsModel(reason)
    return transcribe_dataset(store, recogniser, progress=lambda *args: emit(args), cancel=cancel, only=clips)


def progress_numbers(args: tuple) -> tuple[int, int] | None:
    """(done, total) out of whatever the core progress callback passed: two numbers, a stage and two
    numbers, or an event with `done` and `total`."""
    numbers = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
    if len(numbers) >= 2:
        return numbers[-2], numbers[-1]
    event = args[0] if args else None
    done, total = getattr(event, "done", None), getattr(event, "total", None)
    return (done, total) if isinstance(done, int) and isinstance(total, int) else None


class TranscribeStrip(QWidget):
    """One transcription at a time. `finished(count)` after a run (count: clips given a transcript),
    `failed(message)` when it could not run; after a failure the automatic runs stop, so an offline
    computer gets one message, not one per clip. `models_wanted(reason)`: the Models place, asked for
    (its button) or needed (Transcribe pressed with the recogniser missing)."""

    finished = Signal(int)
    failed = Signal(str)
    models_wanted = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: DatasetStore | None = None
        self.recogniser = DEFAULT_RECOGNISER
        self.running = OneJob(self, self._show_running, self._start_queued)
        self._queued: list[str] = []  # clips added while a job ran: transcribed when it ends
        self._automatic = False  # the running job was started by new clips, not by the button
        self.button = QPushButton("Transcribe clips")
        self.button.setToolTip("Write down what is said in each clip that has no transcript yet, with the "
                               "speech recogniser (runs in the background; your corrections are kept)")
        self.button.clicked.connect(lambda: self.start())
        self.models_button = QPushButton("Models…")
        self.models_button.setToolTip("Which speech recogniser writes the transcripts: download it, or choose a folder")
        self.models_button.clicked.connect(lambda: self.models_wanted.emit(""))
        self.models_button.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)  # Transcribe is the main button
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.bar = QProgressBar()
        self.bar.setFormat("%v of %m clips")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.auto = QCheckBox("Transcribe new clips automatically")
        self.auto.setToolTip(AUTO_HELP)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.button, 0), (self.bar, 1), (self.cancel_button, 0), (self.models_button, 0)):
            row.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.auto)
        layout.addWidget(self.note)
        self.note.hide()
        self._show_running(False)

    def _say(self, text: str) -> None:
        """The line under the button; hidden while there is nothing to say (no empty gap)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    @property
    def busy(self) -> bool:
        return self.running.busy

    def set_dataset(self, store: DatasetStore | None) -> None:
        self.shutdown()
        self.store = store
        self.update_button()
        self._say("")

    def set_recogniser(self, recogniser: str) -> None:
        self.recogniser = recogniser.strip() or DEFAULT_RECOGNISER

    def clips_added(self, file_names: list[str]) -> None:
        """Clips were added: transcribe these (never others) when the automatic runs are on."""
        if not self.auto.isChecked() or not file_names:
            return
        if self.busy:
            self._queued += file_names  # the running job may have listed its clips before these came
        else:
            self.start(clips=file_names)

    def start(self, clips: list[str] | None = None) -> bool:
        """Transcribe the clips without a transcript (the button), or only `clips` (new ones: automatic)."""
        if self.store is None or self.busy:
            return False
        store, recogniser = self.store, self.recogniser
        self._queued, self._automatic = [], clips is not None
        self.bar.setRange(0, 0)
        self._say(f"Loading the speech recogniser {recogniser}…")
        self.running.start(lambda emit, cancel: run_transcription(store, recogniser, emit, cancel, clips),
                           self._succeeded, self._failed, self._progress)
        return True

    def cancel(self) -> None:
        if self.running.cancel():
            self._say("Cancelling… the transcripts written so far are kept.")

    def _progress(self, args) -> None:
        numbers = progress_numbers(args if isinstance(args, tuple) else (args,))
        if numbers is not None:
            done, total = numbers
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(min(done, total))
            self._say(f"Transcribing with {self.recogniser}…")

    def _succeeded(self, count) -> None:
        if isinstance(count, NeedsModel):
            self._needs_model(count.reason)
            return
        count = count if isinstance(count, int) else 0
        self._say(f"{count} clip(s) transcribed with {self.recogniser}." if count
                          else "Every clip has a transcript.")
        self.finished.emit(count)

    def _needs_model(self, reason: str) -> None:
        """Pressed: the Models place opens with the reason. Automatic (new clips, maybe mid-recording):
        no window pops up; the message says where to go, once, and the automatic runs stop."""
        if self._automatic:
            self._failed(f"{reason[:1].upper()}{reason[1:]} (File > Models…)")
            return
        self._say("Transcription did not start: the speech recogniser is not on this computer (see Models).")
        self.models_wanted.emit(reason)

    def _failed(self, message: str) -> None:
        self._queued = []
        if self.running.cancelled:
            self._say("Transcription cancelled; the transcripts written so far are kept.")
            return
        if self.auto.isChecked():
            self.auto.setChecked(False)
            message += "\nAutomatic transcription is now off; press Transcribe clips to try again."
        self._say("Transcription stopped.")
        self.failed.emit(message)

    def _start_queued(self) -> None:
        if self._queued:
            self.start(clips=self._queued)

    def _show_running(self, running: bool) -> None:
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.update_button()

    def update_button(self) -> None:
        """Transcribe clips is there to press when there are clips and no transcription runs."""
        self.button.setEnabled(not self.busy and self.store is not None and len(self.store) > 0)

    def shutdown(self) -> None:
        self._queued = []
        self.running.shutdown()
        self._show_running(False)
