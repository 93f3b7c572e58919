"""The Classify tab: wires the model, clips, ranking, microphone and serve panels; runs the file batches."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QScrollArea, QSplitter, QVBoxLayout, QWidget

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.io import audio_files_under
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.live import LiveResult
from intentdesk.core.inference.results import FileResult
from intentdesk.gui.classify.model_panel import ModelPanel
from intentdesk.gui.classify.ranking import RankingBars
from intentdesk.gui.classify.record_panel import RecordPanel
from intentdesk.gui.classify.results_table import ResultsPanel
from intentdesk.gui.classify.serve_panel import ServePanel
from intentdesk.gui.common.jobs import Job, start_job, stop_jobs
from intentdesk.gui.common.microphone import Microphone
from intentdesk.gui.common.remembered import remembered_number
from intentdesk.gui.common.widgets import MessageBar, WaveformView, accept_file_drags, dropped_paths, side_by_side
from intentdesk.gui.common.wording import count

DEFAULT_THRESHOLD = 0.5
THRESHOLD_KEY = "classify/threshold"  # the person's "uncertain below", kept across restarts


def bars_note(result: FileResult | LiveResult) -> str | None:
    """What the bars say under the verdict: why there is no ranking, or the note and why the answer is by
    sound only when the model's words part was not used."""
    if result.error:
        return result.error
    return "; ".join(part for part in (result.note, result.words_problem) if part) or None


def unreadable_text(errors: list[FileResult]) -> str:
    """The files a batch could not read, each by name and why, on the message's line (the first few
    fit; Details… has all)."""
    reasons = []
    for result in errors:
        name, error = Path(result.file).name, str(result.error)
        reasons.append(error.replace(str(result.file), name, 1) if str(result.file) in error else f"{name}: {error}")
    were = "was" if len(errors) == 1 else "were"
    return f"{count(len(errors), 'file')} could not be read and {were} skipped:\n" + "\n".join(reasons)


class ClassifyTab(QWidget):
    """Dropped, opened, recorded and live audio in; ranked intents out.

    Files are classified one batch at a time, in a worker; files dropped while a batch runs wait
    for it and then follow it in the table, and Clear drops the running batch (its late rows
    never reach the emptied table)."""

    status = Signal(str)
    batch_done = Signal()

    def __init__(self, settings: QSettings, microphone: Microphone, parent=None) -> None:
        super().__init__(parent)
        self._batch: Job | None = None
        self._generation = 0  # bumped by Clear: results of older batches are ignored
        self._pending: list[Path] = []
        self._errors: list[FileResult] = []
        self._first_of_batch = False  # the first result of each batch is shown in the bars
        self._done = self._total = 0  # files classified, and asked for, since the table was last idle
        self.setAcceptDrops(True)
        self._build(settings, microphone)
        self._connect()
        self._set_enabled(False)

    def _build(self, settings: QSettings, microphone: Microphone) -> None:
        self.message = MessageBar()
        self.models = ModelPanel(settings)
        self.serve = ServePanel(lambda: self.classifier)
        self.models.layout().addWidget(self.serve)
        self.threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05,
                                        value=remembered_number(settings, THRESHOLD_KEY, DEFAULT_THRESHOLD, 0.0, 1.0))
        self.threshold.valueChanged.connect(lambda value: settings.setValue(THRESHOLD_KEY, value))
        self.threshold.setPrefix("uncertain below ")
        self.threshold.setToolTip("Answer “uncertain” when the best score is under this number. The model also "
                                  "answers uncertain by its own check, whatever the score, when a clip is unlike "
                                  "every intent it learned (someone asking for something else, or no speech).")
        self.wave = WaveformView(height=100)
        self.bars = RankingBars()
        self.results = ResultsPanel()
        self.results.set_threshold(self.threshold.value())
        self.recording = RecordPanel(microphone, lambda: self.classifier, self.threshold.value)
        single = QWidget()
        single_layout = QVBoxLayout(single)
        single_layout.setContentsMargins(0, 0, 0, 0)
        threshold_row = QHBoxLayout()
        threshold_row.addStretch(1)
        threshold_row.addWidget(self.threshold)
        single_layout.addLayout(threshold_row)
        single_layout.addWidget(self.wave)
        bars = QScrollArea()  # many labels scroll here: the bars never make the window taller
        bars.setWidget(self.bars)
        bars.setWidgetResizable(True)
        bars.setFrameShape(QScrollArea.NoFrame)
        bars.viewport().setAutoFillBackground(False)  # the window's own background, as before
        self.bars.setAutoFillBackground(False)
        single_layout.addWidget(bars, 1)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.results)
        right.addWidget(self.recording)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.models)
        layout.addWidget(side_by_side(single, right, (2, 3)), 1)

    def _connect(self) -> None:
        self.models.loaded.connect(self._model_loaded)
        self.models.failed.connect(self._show_error)
        self.models.loading_changed.connect(lambda name: self.bars.show_prompt(self.classifier is not None, name))
        self.results.files_chosen.connect(self.classify_files)
        self.results.selected.connect(self.show_file_result)
        self.results.cleared.connect(self._cleared)
        self.recording.take_classified.connect(self._take_classified)
        self.recording.live_heard.connect(self._live_heard)
        self.threshold.valueChanged.connect(self.bars.set_threshold)
        self.threshold.valueChanged.connect(self.results.set_threshold)
        for panel in (self.models, self.serve, self.results, self.recording):
            panel.status.connect(self.status)
        for panel in (self.serve, self.recording):
            panel.problem.connect(self._show_error)

    def _set_enabled(self, has_model: bool) -> None:
        self.results.open_button.setEnabled(has_model)
        self.serve.button.setEnabled(has_model)
        self.recording.set_enabled(has_model)
        self.bars.show_prompt(has_model)

    # ------------------------------------------------------------------ models
    @property
    def classifier(self):
        """The model in use (it stays in use while another one loads)."""
        return self.models.classifier

    @property
    def model_dir(self) -> Path | None:
        return self.models.model_dir

    def set_dataset(self, store: DatasetStore | None) -> None:
        """The dataset changed: list its runs; its model loads when the tab is first looked at."""
        self.models.set_dataset_root(store.root if store is not None else None)
        if self.isVisible():
            self.models.load_default()

    def add_run(self, folder: Path) -> None:
        """A training run finished: list it (and load it when no model is in use and the tab is shown)."""
        self.models.add_run(Path(folder))
        if self.isVisible():
            self.models.load_default()

    def open_model(self, folder: Path) -> None:
        self.models.open_model(Path(folder))

    def lock_model(self, folder: Path, no_model_text: str) -> None:
        """Classify with this model only (an app made for someone else, which has no Train tab to point to)."""
        self.models.lock(Path(folder), no_model_text)
        self.bars.no_model_text = no_model_text
        self.bars.show_prompt(False)

    def showEvent(self, event) -> None:
        """The first model loads when the tab is first looked at, not at start-up: the first load
        imports torch and transformers, seconds of CPU the window should not wait for."""
        super().showEvent(event)
        self.models.load_default()

    def _model_loaded(self, classifier) -> None:
        """A new model is in use: what the one before answered goes (it would read as this one's)."""
        if self.results.results or self.bars.ranking:
            self.message.show_message(f"Now using {Path(classifier.model_dir).name}: the results of the model "
                                      "used before were cleared.", "info", 8000)
        self.results.clear()  # also drops what that model was still classifying
        self.results.set_labels(list(getattr(classifier, "labels", [])))
        self.serve.model_changed()
        self.recording.restart_live()
        self._set_enabled(True)

    def _show_error(self, message: str) -> None:
        self.message.show_message(message, "error")

    # ------------------------------------------------------------------ files
    def dragEnterEvent(self, event) -> None:
        accept_file_drags(event)

    def dropEvent(self, event) -> None:
        files: list[Path] = []
        for path in dropped_paths(event):
            files += audio_files_under(path, recursive=True) if path.is_dir() else [path]
        self.classify_files(files)

    def classify_files(self, files: list[Path]) -> None:
        """Add rows for `files` below those already in the table, each as soon as it is classified."""
        if not files:
            return
        if self.classifier is None:
            self.message.show_message(f"Files not classified. {self.bars.no_model_text}", "warning", 8000)
            return
        self._pending += [Path(f) for f in files]
        self._total += len(files)
        self.results.show_progress(self._done, self._total)
        if self._batch is None:
            self._errors = []
            self.message.hide()
            self._start_batch()

    def _start_batch(self) -> None:
        files, self._pending = self._pending, []
        classifier, generation = self.classifier, self._generation

        def work(emit, cancel):
            for path in files:
                if cancel.is_set():
                    break
                emit((generation, classifier.classify_files([path])[0]))

        self._first_of_batch = True
        self._batch = start_job(self, work, on_failure=self._show_error, on_progress=self._add_result,
                                on_finished=self._batch_ended)

    def _add_result(self, item: tuple[int, FileResult]) -> None:
        generation, result = item
        if generation != self._generation:
            return  # a batch the user cleared away
        self._done += 1
        self.results.show_progress(self._done, self._total)
        self.results.add(result)
        if result.error:
            self._errors.append(result)
        if self._first_of_batch:
            self._first_of_batch = False
            self.show_file_result(result)

    def _batch_ended(self) -> None:
        self._batch = None
        if self._pending:
            self._start_batch()
            return
        self._done = self._total = 0
        self.results.show_progress(0, 0)
        if self._errors:
            self.message.show_message(unreadable_text(self._errors), "warning")
        self.status.emit(f"{count(len(self.results.results), 'file')} in the table")
        self.batch_done.emit()

    def _cleared(self) -> None:
        """Clear also drops the files still being classified and those waiting."""
        self._generation += 1
        self._pending = []
        self._done = self._total = 0
        if self._batch is not None:
            self._batch.cancel()
        self.wave.set_wave(None)
        self.bars.clear(self.classifier is not None)

    def show_file_result(self, result: FileResult) -> None:
        """The selected file's waveform (the part the model heard) and bars."""
        wave = None
        if not result.error and self.classifier is not None:
            with contextlib.suppress(IntentDeskError):  # unreadable now: the bars alone
                wave = self.classifier.clips.read(Path(result.file))[0]
        self.wave.set_wave(wave, RATE)
        self.bars.show_ranking(result.ranking or [], self.threshold.value(), Path(result.file).name,
                               None if result.error else result.latency_ms, bars_note(result),
                               getattr(result, "transcript", None), getattr(result, "uncertain", False))

    # ------------------------------------------------------------------ microphone
    def _take_classified(self, outcome) -> None:
        take, result = outcome
        self.wave.set_wave(take, RATE)
        self.bars.show_ranking(result.ranking or [], self.threshold.value(), f"Recording, {time.strftime('%H:%M:%S')}",
                               result.latency_ms, bars_note(result), getattr(result, "transcript", None),
                               getattr(result, "uncertain", False))

    def _live_heard(self, result: LiveResult) -> None:
        if result.ranking:
            stamp = time.strftime("%H:%M:%S", time.localtime(result.at))
            self.bars.show_ranking(result.ranking, self.threshold.value(), f"Live, heard at {stamp}",
                                   note=bars_note(result), transcript=getattr(result, "transcript", None),
                                   uncertain=getattr(result, "uncertain", False))

    def shutdown(self) -> None:
        self.recording.shutdown()
        self.serve.stop()
        self.models.shutdown()
        for owner in (self, self.serve, self.recording):
            stop_jobs(owner)
