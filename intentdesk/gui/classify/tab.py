"""Classify tab: ranked intents for dropped, opened, recorded and live audio."""

from __future__ import annotations

import csv
import queue
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.audio import io as audio
from intentdesk.core.audio.microphone import MicrophoneError, Recorder, StreamFactory
from intentdesk.core.audio.vad import UtteranceSegmenter, trim_silence
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.results import FileResult, Prediction
from intentdesk.core.runs import list_runs
from intentdesk.gui.common.jobs import Job
from intentdesk.gui.common.widgets import MessageBar, WaveformView, accept_file_drags, dropped_paths, side_by_side

RATE = 16000
DEFAULT_THRESHOLD = 0.5
TABLE_COLUMNS = ("File", "Top intent", "Score", "Second intent", "Time (ms)")


def load_classifier(folder: Path):
    """Runs in a worker: importing torch and transformers takes seconds, never on the GUI thread."""
    from intentdesk.core.inference.classifier import Classifier

    return Classifier(folder)


SERVICE_PORT = 8000  # the usual first choice; another free port when it is taken

# How the chosen inference format reads to a user (core/inference/precision.py picks it per machine).
PRECISION_NAMES = {"fp32": "float32", "bf16": "bfloat16 (fast path)", "int8": "int8 (fast path)"}


class RankingBars(QWidget):
    """All labels as horizontal bars with percentages, best first; the top one highlighted."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setAlignment(Qt.AlignTop)
        self.headline = QLabel("Drop audio files here, open them, or record.")
        self.headline.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.grid.addWidget(self.headline, 0, 0, 1, 3)
        self.rows: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.ranking: list[Prediction] = []

    def show_ranking(self, ranking: list[Prediction], threshold: float, seconds_ms: float | None = None) -> None:
        for widgets in self.rows:
            for widget in widgets:
                widget.deleteLater()
        self.rows = []
        self.ranking = ranking
        if not ranking:
            self.headline.setText("No result")
            return
        top = ranking[0]
        timing = f"  ·  {seconds_ms:.0f} ms" if seconds_ms is not None else ""
        if top.score >= threshold:
            self.headline.setText(f"{top.label}  {top.score:.0%}{timing}")
            self.headline.setStyleSheet("font-size: 18px; font-weight: bold; color: #1d6b35;")
        else:
            self.headline.setText(f"Uncertain (best guess {top.label}, {top.score:.0%}){timing}")
            self.headline.setStyleSheet("font-size: 18px; font-weight: bold; color: #9a5b00;")
        for i, prediction in enumerate(ranking):
            name = QLabel(prediction.label)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(prediction.score * 1000))
            bar.setTextVisible(False)
            bar.setFixedHeight(16)
            percent = QLabel(f"{prediction.score:.1%}")
            percent.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if i == 0:
                name.setStyleSheet("font-weight: bold;")
                bar.setStyleSheet("QProgressBar::chunk { background: #2a9d4b; }")
            self.grid.addWidget(name, i + 1, 0)
            self.grid.addWidget(bar, i + 1, 1)
            self.grid.addWidget(percent, i + 1, 2)
            self.rows.append((name, bar, percent))
        self.grid.setColumnStretch(1, 1)

    def labels_in_order(self) -> list[str]:
        return [row[0].text() for row in self.rows]


class ClassifyTab(QWidget):
    status = Signal(str)
    model_ready = Signal(object)
    file_classified = Signal(object)
    batch_done = Signal()
    live_result = Signal(object)

    def __init__(self, settings: QSettings, list_devices, stream_factory: StreamFactory | None, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.classifier = None
        self.service = None  # a BackgroundService while "Serve this model" is on
        self._loading_folder: Path | None = None
        self.model_dir: Path | None = None
        self.dataset: DatasetStore | None = None
        self._list_devices = list_devices
        self._stream_factory = stream_factory
        self.recorder: Recorder | None = None
        self._jobs: list[Job] = []
        self._loading: Job | None = None
        self._queued_model: Path | None = None
        self._default_model: Path | None = None
        self._live_job: Job | None = None
        self._live_queue: queue.Queue | None = None
        self._listener = None
        self.results: list[FileResult] = []
        self.setAcceptDrops(True)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message = MessageBar()
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        row = QHBoxLayout()
        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(320)
        self.model_combo.activated.connect(self._model_chosen)
        open_model = QPushButton("Open folder…")
        open_model.clicked.connect(self.choose_model_folder)
        self.threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=DEFAULT_THRESHOLD)
        self.threshold.setPrefix("uncertain below ")
        self.threshold.valueChanged.connect(self._rerender)
        row.addWidget(self.model_combo, 1)
        row.addWidget(open_model)
        row.addWidget(self.threshold)
        self.model_info = QLabel("No model loaded.")
        self.model_info.setWordWrap(True)
        model_layout.addLayout(row)
        model_layout.addWidget(self.model_info)

        actions = QHBoxLayout()
        self.open_button = QPushButton("Open audio…")
        self.open_button.clicked.connect(self.choose_files)
        self.record_button = QPushButton("●  Record")
        self.record_button.clicked.connect(self.toggle_record)
        self.live_button = QPushButton("Live: off")
        self.live_button.setCheckable(True)
        self.live_button.toggled.connect(self.set_live)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.choose_export)
        self.serve_button = QPushButton("Serve this model: off")
        self.serve_button.setCheckable(True)
        self.serve_button.setToolTip("Answer POST /classify over HTTP on this computer (127.0.0.1 only)")
        self.serve_button.toggled.connect(self.set_serving)
        self.serve_info = QLabel("")
        self.serve_info.setOpenExternalLinks(True)
        self.serve_info.setTextInteractionFlags(Qt.TextBrowserInteraction)
        for button in (self.open_button, self.record_button, self.live_button, self.export_button, self.serve_button):
            actions.addWidget(button)
        actions.addWidget(self.serve_info, 1)
        self._serve_timer = QTimer(self, interval=1000)
        self._serve_timer.timeout.connect(self._show_serve_info)

        self.wave = WaveformView(height=100)
        self.bars = RankingBars()
        single = QWidget()
        single_layout = QVBoxLayout(single)
        single_layout.setContentsMargins(0, 0, 0, 0)
        single_layout.addWidget(self.wave)
        single_layout.addWidget(self.bars, 1)

        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._table_selected)
        self.live_list = QListWidget()
        right = QSplitter(Qt.Vertical)
        table_box = QGroupBox("Clips")
        QVBoxLayout(table_box).addWidget(self.table)
        live_box = QGroupBox("Live")
        QVBoxLayout(live_box).addWidget(self.live_list)
        right.addWidget(table_box)
        right.addWidget(live_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(model_box)
        layout.addLayout(actions)
        layout.addWidget(side_by_side(single, right, (3, 2)), 1)
        self._set_enabled(False)

    def _set_enabled(self, has_model: bool) -> None:
        for widget in (self.open_button, self.record_button, self.live_button, self.serve_button):
            widget.setEnabled(has_model)
        self.export_button.setEnabled(bool(self.results))

    # ------------------------------------------------------------------ models
    def set_dataset(self, store: DatasetStore | None) -> None:
        self.dataset = store
        self.model_combo.clear()
        for run in list_runs(store.root if store is not None else None):
            self.model_combo.addItem(run.summary(), str(run.path))
        last = self.settings.value("last/model")
        self._default_model = Path(self.model_combo.itemData(0)) if self.model_combo.count() else \
            (Path(last) if last and Path(last).is_dir() else None)
        if self.isVisible():
            self._load_default_model()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._load_default_model()

    def _load_default_model(self) -> None:
        """The newest model is loaded when the tab is first looked at, not at start-up: the first
        load imports torch and transformers, seconds of CPU the window should not wait for."""
        if self.classifier is None and self._loading is None and self._default_model is not None:
            self.open_model(self._default_model)

    def _model_chosen(self, index: int) -> None:
        folder = self.model_combo.itemData(index)
        if folder:
            self.open_model(Path(folder))

    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a Hugging Face audio-classification model folder")
        if folder:
            self.open_model(Path(folder))

    def open_model(self, folder: Path) -> None:
        """Load a model in the background; it is kept until another one is chosen.

        One load at a time: asking for another model while one loads queues the newest request;
        asking for the model that is loading or loaded already does nothing.
        """
        folder = Path(folder).expanduser().resolve()
        if self._loading is not None:
            if folder != self._loading_folder:
                self._queued_model = folder
            return
        if self.classifier is not None and folder == Path(self.model_dir).resolve():
            return
        self._loading_folder = folder
        self.model_info.setText(f"Loading {folder}…")
        self._set_enabled(False)
        self._loading = self._start(lambda _emit, _cancel: load_classifier(folder), self._model_loaded,
                                    self._model_failed)
        self._loading.finished.connect(self._load_ended)

    def _load_ended(self) -> None:
        self._loading = None
        queued, self._queued_model = self._queued_model, None
        if queued is not None:
            self.open_model(queued)

    def _model_loaded(self, classifier) -> None:
        if self.service is not None:
            self.serve_button.setChecked(False)  # the service held the previous model
        self.classifier = classifier
        self.model_dir = classifier.model_dir
        self.settings.setValue("last/model", str(self.model_dir))
        info = classifier.info()
        metrics = (f"eval accuracy {info['accuracy']:.3f}, macro-F1 {info['macro_f1']:.3f}"
                   if info.get("accuracy") is not None else "no eval metrics")
        self.model_info.setText(f"<b>{self.model_dir.name}</b> · base {info['base_model']} · {metrics} · "
                                f"runs in {PRECISION_NAMES.get(info['precision'], info['precision'])}<br>"
                                f"Labels: {', '.join(info['labels'])}")
        if self.model_combo.findData(str(self.model_dir)) < 0:
            self.model_combo.insertItem(0, str(self.model_dir), str(self.model_dir))
        self.model_combo.setCurrentIndex(self.model_combo.findData(str(self.model_dir)))
        self._set_enabled(True)
        self.status.emit(f"Model loaded: {self.model_dir.name}")
        self.model_ready.emit(classifier)

    def _model_failed(self, message: str) -> None:
        self.model_info.setText("No model loaded.")
        self.message.show_message(message, "error")
        self._set_enabled(self.classifier is not None)

    # ------------------------------------------------------------------ files
    def dragEnterEvent(self, event) -> None:
        accept_file_drags(event)

    def dropEvent(self, event) -> None:
        files: list[Path] = []
        for path in dropped_paths(event):
            files += sorted(f for f in path.rglob("*") if f.is_file() and audio.is_audio_file(f)) \
                if path.is_dir() else [path]
        self.classify_files(files)

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Audio to classify", "",
                                                "Audio (*.wav *.flac *.ogg *.mp3 *.m4a);;All files (*)")
        self.classify_files([Path(n) for n in names])

    def classify_files(self, files: list[Path]) -> None:
        """Classify in a worker; each result is added to the table as soon as it is ready."""
        if not files:
            return
        if self.classifier is None:
            self.message.show_message("Choose a model first.", "warning", 5000)
            return
        classifier = self.classifier
        self.table.setRowCount(0)
        self.results = []
        self.message.hide()

        def work(emit, cancel):
            for path in files:
                if cancel.is_set():
                    break
                emit(classifier.classify_file(path))

        job = self._start(work, lambda _r: self._batch_finished(), self._job_failed)
        job.progress.connect(self._add_result)
        self.status.emit(f"Classifying {len(files)} file(s)…")

    def _add_result(self, result: FileResult) -> None:
        self.results.append(result)
        row = self.table.rowCount()
        self.table.insertRow(row)
        if result.error:
            values = [Path(result.file).name, "unreadable", "", result.error, ""]
        else:
            ranking = result.ranking or []
            second = f"{ranking[1].label} ({ranking[1].score:.0%})" if len(ranking) > 1 else ""
            values = [Path(result.file).name, ranking[0].label, f"{ranking[0].score:.3f}", second,
                      f"{result.latency_ms:.0f}"]
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(result.file)
            self.table.setItem(row, column, item)
        if len(self.results) == 1 or self.table.rowCount() == 1:
            self.show_file_result(result)
        self.file_classified.emit(result)

    def _batch_finished(self) -> None:
        errors = [r for r in self.results if r.error]
        if errors:
            self.message.show_message(f"{len(errors)} file(s) could not be read and were skipped:\n"
                                      + "\n".join(r.error for r in errors[:10]), "warning")
        self.export_button.setEnabled(bool(self.results))
        self.status.emit(f"Classified {len(self.results) - len(errors)} file(s)")
        self.batch_done.emit()

    def show_file_result(self, result: FileResult) -> None:
        if result.error:
            self.wave.set_wave(None)
            self.bars.show_ranking([], self.threshold.value())
            return
        try:
            wave = self.classifier.load(Path(result.file))
        except IntentDeskError:
            wave = None
        self.wave.set_wave(wave, RATE)
        self.bars.show_ranking(result.ranking or [], self.threshold.value(), result.latency_ms)

    def _table_selected(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) == 1:
            row = rows.pop()
            if row < len(self.results):
                self.show_file_result(self.results[row])

    def _rerender(self) -> None:
        if self.bars.ranking:
            self.bars.show_ranking(self.bars.ranking, self.threshold.value())

    def choose_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export results", "intents.csv", "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))

    def export_csv(self, path: Path) -> None:
        from intentdesk.core.files import atomic_open

        with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "top_intent", "score", "second_intent", "second_score", "latency_ms", "error"])
            for r in self.results:
                top = (r.ranking or []) + [Prediction("", float("nan"))] * 2
                writer.writerow([r.file, top[0].label, f"{top[0].score:.4f}" if top[0].label else "",
                                 top[1].label, f"{top[1].score:.4f}" if top[1].label else "",
                                 "" if r.error else f"{r.latency_ms:.1f}", r.error or ""])
        self.status.emit(f"Exported {len(self.results)} result(s) to {path}")

    # ------------------------------------------------------------------ microphone
    def _ensure_recorder(self) -> Recorder | None:
        if self.recorder is None:
            try:
                devices = self._list_devices()
                index = devices[0].index if devices else None
                self.recorder = Recorder(RATE, None if index is None or index < 0 else index, self._stream_factory)
                self.recorder.open()
            except MicrophoneError as error:
                self.recorder = None
                self.message.show_message(str(error), "error")
        return self.recorder

    def toggle_record(self) -> None:
        recorder = self._ensure_recorder()
        if recorder is None:
            return
        if recorder.recording:
            take = trim_silence(recorder.stop_take(), RATE)
            self.record_button.setText("●  Record")
            self.classify_take(take)
        else:
            recorder.start_take()
            self.record_button.setText("■  Stop and classify")

    def classify_take(self, take: np.ndarray) -> None:
        classifier = self.classifier

        def work(_emit, _cancel):
            started = time.perf_counter()
            ranking = classifier.classify_array(take, RATE)
            return take, ranking, (time.perf_counter() - started) * 1000

        self._start(work, self._take_classified, self._job_failed)

    def _take_classified(self, outcome) -> None:
        take, ranking, ms = outcome
        self.wave.set_wave(take, RATE)
        self.bars.show_ranking(ranking, self.threshold.value(), ms)

    def set_live(self, on: bool) -> None:
        """Listen continuously; each utterance (cut by voice activity) is classified when it ends."""
        self.live_button.setText("Live: on" if on else "Live: off")
        if not on:
            self._stop_live()
            return
        recorder = self._ensure_recorder()
        if recorder is None or self.classifier is None:
            self.live_button.setChecked(False)
            return
        segmenter = UtteranceSegmenter(RATE)
        utterances: queue.Queue = queue.Queue()
        started = time.time()

        def listener(block):  # audio thread: cheap work only
            for offset, samples in segmenter.feed(block):
                utterances.put((offset, samples))

        classifier = self.classifier

        def work(emit, cancel):
            while not cancel.is_set():
                try:
                    offset, samples = utterances.get(timeout=0.1)
                except queue.Empty:
                    continue
                try:
                    ranking = classifier.classify_array(samples, RATE)
                except IntentDeskError as error:
                    emit((offset, None, str(error)))
                    continue
                emit((offset, ranking, None))

        self._listener = listener
        self._live_started = started
        recorder.add_listener(listener)
        self._live_job = self._start(work, lambda _r: None, self._job_failed)
        self._live_job.progress.connect(self._live_result)
        self.status.emit("Live mode: listening")

    def _live_result(self, item) -> None:
        offset, ranking, error = item
        stamp = time.strftime("%H:%M:%S", time.localtime(self._live_started + offset))
        if error:
            text = f"{stamp}  (skipped: {error})"
        else:
            top = ranking[0]
            verdict = top.label if top.score >= self.threshold.value() else f"uncertain ({top.label}?)"
            text = f"{stamp}  {verdict}  {top.score:.0%}"
            self.bars.show_ranking(ranking, self.threshold.value())
        self.live_list.insertItem(0, text)
        self.live_result.emit(item)

    def _stop_live(self) -> None:
        if self.recorder is not None and self._listener is not None:
            self.recorder.remove_listener(self._listener)
        self._listener = None
        if self._live_job is not None:
            self._live_job.cancel_and_wait(3000)
            self._live_job = None

    # ------------------------------------------------------------------ service
    def set_serving(self, on: bool) -> None:
        """Start or stop the HTTP service (intentdesk.service) for the loaded model."""
        self.serve_button.setText(f"Serve this model: {'on' if on else 'off'}")
        if not on:
            self._stop_service()
            return
        if self.classifier is None or self.service is not None:
            return
        classifier = self.classifier

        def work(_emit, _cancel):
            from intentdesk.service.app import create_app
            from intentdesk.service.runner import BackgroundService, free_port, port_is_free

            service = BackgroundService(create_app(classifier), port=SERVICE_PORT if port_is_free(SERVICE_PORT)
                                        else free_port())
            service.start()
            return service

        self.serve_info.setText("Starting…")
        self._start(work, self._service_started, self._service_failed)

    def _service_started(self, service) -> None:
        if not self.serve_button.isChecked():  # switched off while starting
            service.stop()
            return
        self.service = service
        self._show_serve_info()
        self._serve_timer.start()
        self.status.emit(f"Serving {self.model_dir.name} at {service.url}")

    def _service_failed(self, message: str) -> None:
        self.serve_button.setChecked(False)
        self.message.show_message(message, "error")

    def _show_serve_info(self) -> None:
        if self.service is not None:
            url = self.service.url
            self.serve_info.setText(f"POST <a href='{url}/docs'>{url}/classify</a> · "
                                    f"{self.service.requests} request(s)")

    def _stop_service(self) -> None:
        self._serve_timer.stop()
        self.serve_info.setText("")
        if self.service is not None:
            self.service.stop()
            self.service = None

    # ------------------------------------------------------------------ jobs
    def _start(self, work, on_success, on_failure) -> Job:
        job = Job(work, self)
        job.succeeded.connect(on_success)
        job.failed.connect(on_failure)
        job.finished.connect(lambda: self._jobs.remove(job) if job in self._jobs else None)
        self._jobs.append(job)
        job.start()
        return job

    def _job_failed(self, message: str) -> None:
        self.message.show_message(message, "error")

    def shutdown(self) -> None:
        self._stop_live()
        self._stop_service()
        for job in list(self._jobs):
            job.cancel_and_wait(5000)
        if self.recorder is not None:
            self.recorder.close()
