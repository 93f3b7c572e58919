"""Train tab: a form, Start/Cancel, live curves, results, and the list of past runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.events import EpochEvent, StageEvent, StepEvent, TrainFinished, TrainStarted
from intentdesk.core.learning.settings import MODE_DEFAULTS, TrainSettings
from intentdesk.core.models.hub import DEFAULT_BASE_MODEL
from intentdesk.core.runs import list_runs, new_run_dir, read_run
from intentdesk.gui.common.jobs import Job
from intentdesk.gui.train.plots import ConfusionMatrixView, TrainingCurves
from intentdesk.gui.common.widgets import MessageBar, side_by_side


def run_training(data_root: Path, out: Path, settings: TrainSettings, emit, cancel):
    """Runs in the worker thread, imports included: torch takes seconds to import."""
    from intentdesk.core.learning.trainer import train

    return train(data_root, out, settings, emit, cancel)


def format_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


class TrainTab(QWidget):
    status = Signal(str)
    use_model = Signal(str)
    finished = Signal(object)  # the TrainResult, for tests and the runs list

    def __init__(self, settings: QSettings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store: DatasetStore | None = None
        self.job: Job | None = None
        self.output_dir: Path | None = None
        self._build()
        self._mode_changed()
        self.set_store(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message = MessageBar()
        form_box = QGroupBox("Settings")
        form = QFormLayout(form_box)
        self.dataset_label = QLabel()
        self.dataset_label.setWordWrap(True)
        form.addRow("Dataset:", self.dataset_label)
        base_row = QHBoxLayout()
        self.base_combo = QComboBox(editable=True)
        recent = self.settings.value("train/bases", [DEFAULT_BASE_MODEL])
        self.base_combo.addItems([recent] if isinstance(recent, str) else list(recent or [DEFAULT_BASE_MODEL]))
        self.base_combo.setToolTip("A Hugging Face hub id (needs internet the first time) or a local model folder")
        browse = QPushButton("Folder…")
        browse.clicked.connect(self.choose_base_folder)
        base_row.addWidget(self.base_combo, 1)
        base_row.addWidget(browse)
        form.addRow("Base model:", base_row)
        mode_row = QHBoxLayout()
        self.quick_radio = QRadioButton("Quick (frozen backbone, seconds per epoch)")
        self.full_radio = QRadioButton("Full (fine-tune, slower, best accuracy)")
        self.quick_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.quick_radio)
        group.addButton(self.full_radio)
        self.quick_radio.toggled.connect(self._mode_changed)
        mode_box = QVBoxLayout()
        mode_box.addWidget(self.quick_radio)
        mode_box.addWidget(self.full_radio)
        mode_row.addLayout(mode_box)
        form.addRow("Mode:", mode_row)
        defaults = TrainSettings()
        self.epochs = QSpinBox(minimum=1, maximum=500)
        self.learning_rate = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=1e-1, singleStep=1e-5)
        self.batch_size = QSpinBox(minimum=1, maximum=128)
        self.max_seconds = QDoubleSpinBox(minimum=1, maximum=30, value=defaults.max_seconds, suffix=" s")
        self.eval_share = QDoubleSpinBox(minimum=0.05, maximum=0.5, singleStep=0.05, value=defaults.eval_share)
        self.seed = QSpinBox(minimum=0, maximum=1_000_000, value=defaults.seed)
        for label, widget in (("Epochs:", self.epochs), ("Learning rate:", self.learning_rate),
                              ("Batch size:", self.batch_size), ("Max clip length:", self.max_seconds),
                              ("Eval share:", self.eval_share), ("Seed:", self.seed)):
            form.addRow(label, widget)
        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        advanced = QFormLayout(self.advanced)
        self.head_lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1e-1, singleStep=1e-4,
                                      value=defaults.head_learning_rate)
        self.warmup = QDoubleSpinBox(minimum=0, maximum=0.5, singleStep=0.05, value=defaults.warmup_ratio)
        self.weight_decay = QDoubleSpinBox(decimals=3, minimum=0, maximum=0.5, singleStep=0.01,
                                           value=defaults.weight_decay)
        self.label_smoothing = QDoubleSpinBox(minimum=0, maximum=0.3, singleStep=0.05, value=defaults.label_smoothing)
        self.quick_layers = QSpinBox(minimum=1, maximum=4, value=defaults.quick_layers)
        self.warm_start = QSpinBox(minimum=0, maximum=50, value=defaults.warm_start_epochs)
        self.warm_start.setToolTip("Full mode first trains the top layer this many epochs on cached features")
        self.bf16 = QCheckBox("bf16 where it is faster (CPU with AMX, or GPU)")
        self.bf16.setChecked(defaults.bf16)
        for label, widget in (("Head learning rate:", self.head_lr), ("Warmup share:", self.warmup),
                              ("Weight decay:", self.weight_decay), ("Label smoothing:", self.label_smoothing),
                              ("Quick: trained top layers:", self.quick_layers),
                              ("Full: warm-start epochs:", self.warm_start), ("", self.bf16)):
            advanced.addRow(label, widget)
        self.blockers = QLabel()
        self.blockers.setWordWrap(True)
        self.blockers.setStyleSheet("color: #b02a2a;")
        buttons = QHBoxLayout()
        self.start_button = QPushButton("▶  Start training")
        self.start_button.setMinimumHeight(40)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.eta_label = QLabel("")
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(form_box)
        left_layout.addWidget(self.advanced)
        left_layout.addWidget(self.blockers)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.eta_label)
        left_layout.addWidget(self.log, 1)

        self.curves = TrainingCurves()
        results = QWidget()
        results_layout = QVBoxLayout(results)
        self.summary = QLabel("Results appear here when a run ends.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.per_class = QTableWidget(0, 5)
        self.per_class.setHorizontalHeaderLabels(["Label", "Precision", "Recall", "F1", "Clips"])
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.per_class.verticalHeader().hide()
        self.confusion = ConfusionMatrixView()
        results_layout.addWidget(self.summary)
        results_layout.addWidget(side_by_side(self.per_class, self.confusion, (1, 1)), 1)
        runs = QWidget()
        runs_layout = QVBoxLayout(runs)
        self.runs_list = QListWidget()
        self.runs_list.currentItemChanged.connect(self._run_selected)
        self.use_button = QPushButton("Use in Classify")
        self.use_button.clicked.connect(self._use_selected)
        runs_layout.addWidget(self.runs_list, 1)
        runs_layout.addWidget(self.use_button)
        self.views = QTabWidget()
        self.views.addTab(self.curves, "Curves")
        self.views.addTab(results, "Results")
        self.views.addTab(runs, "Runs")

        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        scroll = QScrollArea()  # scrolls rather than squashing the form on small screens
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        left.setMinimumHeight(left.sizeHint().height())
        scroll.setMinimumWidth(left.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        layout.addWidget(side_by_side(scroll, self.views), 1)

    # ------------------------------------------------------------------ state
    def set_store(self, store: DatasetStore | None) -> None:
        self.store = store
        self.dataset_changed()
        self.refresh_runs()

    def dataset_changed(self) -> None:
        if self.store is None:
            self.dataset_label.setText("none: open or create one in the File menu")
        else:
            counts = self.store.label_counts()
            self.dataset_label.setText(f"{self.store.root.name}: {len(self.store)} clips, {len(counts)} labels")
        self.update_blockers(check_files=False)

    def _mode_changed(self) -> None:
        defaults = MODE_DEFAULTS["quick" if self.quick_radio.isChecked() else "full"]
        self.epochs.setValue(defaults["epochs"])
        self.learning_rate.setValue(defaults["learning_rate"])
        self.batch_size.setValue(defaults["batch_size"])

    def choose_base_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a Hugging Face model folder")
        if folder:
            self.base_combo.setCurrentText(folder)
            self.update_blockers(check_files=False)

    def update_blockers(self, check_files: bool = True) -> list[str]:
        """Explain what stops training; the Start button is enabled only when nothing does."""
        from intentdesk.core.data.health import base_model_blocker, training_blockers, unreadable_clips

        problems: list[str] = []
        if self.store is None:
            problems.append("open a dataset first")
        else:
            problems += training_blockers(self.store)
            if check_files and not problems:
                bad = unreadable_clips(self.store)
                if bad:
                    problems.append(f"{len(bad)} clip(s) cannot be read: {', '.join(bad[:5])} "
                                    "(delete them in the Label tab)")
        if check_files:
            blocker = base_model_blocker(self.base_combo.currentText().strip())
            if blocker:
                problems.append(blocker)
        self.blockers.setText("\n".join(f"• Cannot start: {p}" for p in problems))
        running = self.job is not None and self.job.isRunning()
        self.start_button.setEnabled(not running and (self.store is not None) and (not problems or not check_files))
        return problems

    def training_settings(self):
        return TrainSettings(
            base_model=self.base_combo.currentText().strip(), mode="quick" if self.quick_radio.isChecked() else "full",
            epochs=self.epochs.value(), learning_rate=self.learning_rate.value(), batch_size=self.batch_size.value(),
            max_seconds=self.max_seconds.value(), eval_share=self.eval_share.value(), seed=self.seed.value(),
            head_learning_rate=self.head_lr.value(), warmup_ratio=self.warmup.value(),
            weight_decay=self.weight_decay.value(), label_smoothing=self.label_smoothing.value(),
            quick_layers=self.quick_layers.value(), warm_start_epochs=self.warm_start.value(),
            bf16=self.bf16.isChecked(),
        )

    # ------------------------------------------------------------------ run
    def start(self) -> bool:
        if self.job is not None and self.job.isRunning():
            return False
        if self.update_blockers(check_files=True):
            return False
        settings = self.training_settings()
        self._remember_base(settings.base_model)
        self.output_dir = new_run_dir(self.store.root, settings.mode, settings.base_model)
        data_root, out = self.store.root, self.output_dir
        self.curves.clear()
        self.log.clear()
        self.progress.setValue(0)
        self.message.hide()
        self._log(f"Run {out.name}: {settings.mode} mode, base {settings.base_model}")
        self.job = Job(lambda emit, cancel: run_training(data_root, out, settings, emit, cancel), self)
        self.job.progress.connect(self._on_event)
        self.job.succeeded.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._job_ended)
        self._started = time.monotonic()
        self.job.start()
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.views.setCurrentWidget(self.curves)
        self.status.emit("Training started")
        return True

    def cancel(self) -> None:
        if self.job is not None and self.job.isRunning():
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self._log("Cancelling… the best model so far is kept.")

    def _on_event(self, event) -> None:
        if isinstance(event, StageEvent):
            if event.fraction is not None:
                self.progress.setValue(int(event.fraction * 100))
            self.eta_label.setText(event.stage)
            if not event.stage.startswith("Computing") or event.fraction == 0:
                self._log(event.stage)
        elif isinstance(event, TrainStarted):
            self.progress.setRange(0, event.total_steps)
            self.progress.setValue(0)
            self._log(f"{event.train_clips} training / {event.eval_clips} eval clips, {len(event.labels)} labels, "
                      f"{event.total_steps} steps on {event.device}")
        elif isinstance(event, StepEvent):
            self.progress.setRange(0, event.total_steps)
            self.progress.setValue(event.step)
            self.eta_label.setText(f"Step {event.step}/{event.total_steps} · loss {event.loss:.3f} · "
                                   f"ETA {format_eta(event.eta_s)}")
            self.curves.add_step(event.epoch, event.loss)
        elif isinstance(event, EpochEvent):
            self.curves.add_epoch(event.epoch, event.eval_loss, event.accuracy, event.macro_f1, event.is_best)
            self._log(f"Epoch {event.epoch}: eval loss {event.eval_loss:.3f}, accuracy {event.accuracy:.3f}, "
                      f"macro-F1 {event.macro_f1:.3f}{'  ★ best' if event.is_best else ''}")
        elif isinstance(event, TrainFinished):
            self._log("Cancelled." if event.cancelled and not event.output_dir else
                      f"Saved to {event.output_dir} ({event.seconds:.0f} s)")

    def _on_finished(self, result) -> None:
        if result.output_dir is None:
            self.message.show_message("Training was cancelled before the first evaluation: no model was saved.",
                                      "warning")
        else:
            self.show_results(result.metrics)
            note = " (cancelled: best model so far)" if result.cancelled else ""
            self.message.show_message(f"Model saved: {result.output_dir}{note}", "info", 8000)
            self.refresh_runs()
        self.status.emit("Training finished")
        self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self.message.show_message(message, "error")
        self._log(f"Failed: {message}")
        self.status.emit("Training failed")

    def _job_ended(self) -> None:
        self.cancel_button.setEnabled(False)
        self.update_blockers(check_files=False)

    def _log(self, text: str) -> None:
        self.log.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {text}")

    def _remember_base(self, base: str) -> None:
        items = [base] + [self.base_combo.itemText(i) for i in range(self.base_combo.count())
                          if self.base_combo.itemText(i) != base]
        self.settings.setValue("train/bases", items[:8])

    # ------------------------------------------------------------------ results and runs
    def show_results(self, metrics: dict) -> None:
        labels = metrics.get("labels", [])
        p, r, f = metrics.get("precision", {}), metrics.get("recall", {}), metrics.get("f1", {})
        rows = "".join(f"<tr><td>{avg}</td><td>{p.get(avg, 0):.3f}</td><td>{r.get(avg, 0):.3f}</td>"
                       f"<td>{f.get(avg, 0):.3f}</td></tr>" for avg in ("micro", "macro", "weighted"))
        self.summary.setText(
            f"<b>Accuracy {metrics.get('accuracy', 0):.3f}</b> on {metrics.get('count', 0)} eval clips "
            f"(best epoch {metrics.get('best_epoch')})<table cellpadding=3><tr><th></th><th>precision</th>"
            f"<th>recall</th><th>F1</th></tr>{rows}</table>")
        per_class = metrics.get("per_class", {})
        self.per_class.setRowCount(len(per_class))
        for i, (label, row) in enumerate(per_class.items()):
            values = [label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"])]
            for j, value in enumerate(values):
                self.per_class.setItem(i, j, QTableWidgetItem(value))
        self.confusion.set_matrix(metrics.get("confusion_matrix", []), labels)
        self.curves.mark_best(metrics.get("best_epoch"))

    def refresh_runs(self) -> None:
        self.runs_list.clear()
        for run in list_runs(self.store.root if self.store is not None else None):
            item = QListWidgetItem(run.summary())
            item.setData(Qt.UserRole, str(run.path))
            self.runs_list.addItem(item)
        self.use_button.setEnabled(self.runs_list.count() > 0)

    def open_run(self, folder: Path) -> None:
        """Show a past run's curves and results."""
        try:
            metrics = json.loads((Path(folder) / "metrics.json").read_text())
        except (OSError, ValueError):
            self.message.show_message(f"{folder}: no readable metrics.json", "warning", 5000)
            return
        self.curves.load_history(metrics.get("history", []), metrics.get("step_losses", []), metrics.get("best_epoch"))
        self.show_results(metrics)

    def _run_selected(self, item) -> None:
        if item is not None and not (self.job is not None and self.job.isRunning()):
            self.open_run(Path(item.data(Qt.UserRole)))

    def _use_selected(self) -> None:
        item = self.runs_list.currentItem() or self.runs_list.item(0)
        if item is not None and read_run(Path(item.data(Qt.UserRole))) is not None:
            self.use_model.emit(item.data(Qt.UserRole))

    # ------------------------------------------------------------------ closing
    def is_running(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def ask_close(self, parent) -> bool:
        """Modal question (tests replace this method)."""
        answer = QMessageBox.question(parent, "Training is running",
                                      "Training is still running. Stop it and close? The best model so far is kept.")
        return answer == QMessageBox.Yes

    def confirm_close(self, parent) -> bool:
        if not self.is_running():
            return True
        if not self.ask_close(parent):
            return False
        self.job.cancel_and_wait(60000)
        return True
