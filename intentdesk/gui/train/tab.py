"""The Train tab: wires the settings form, Start/Cancel and progress (left) to curves, results and runs (right)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.data.health import label_warnings, training_blockers, typed_only_labels
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError, first_line
from intentdesk.core.events import EpochEvent, Outcome, StepEvent
from intentdesk.core.models.catalogue import BASE_MODEL, RECOGNISER, TEXT_ENCODER, State, missing_reason, status_of
from intentdesk.core.models.hub import hub_is_offline
from intentdesk.core.runs import STAGE_1, RunRecord, new_run_dir, read_run
from intentdesk.gui.common.jobs import Job, start_job
from intentdesk.gui.common.remembered import PerDataset
from intentdesk.gui.common.widgets import MessageBar, keep_room_when_hidden, side_by_side
from intentdesk.gui.common.wording import count
from intentdesk.gui.train.choices import FormChoices, recent_bases
from intentdesk.gui.train.form import SettingsForm
from intentdesk.gui.train.form_scroll import FormScroll
from intentdesk.gui.train.plots import TrainingCurves
from intentdesk.gui.train.progress import ProgressPanel
from intentdesk.gui.train.results import ResultsPanel
from intentdesk.gui.train.run_job import WORDS_ROLES, NotStarted, run_training
from intentdesk.gui.train.runs import RunsPanel

SHOWN_RUNS = "train/shown_runs"  # JSON: dataset folder -> the run whose results were on screen (back after a restart)
CURVES_NOTE = ("These curves are the sound model's. With words, the words model is trained after it, on the "
               "clips' transcripts and your example phrases; Results compares sound only, words only and both "
               "together.")


def red_or_amber(label: QLabel, colour: str) -> QLabel:
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {colour};")
    return label


class TrainTab(QWidget):
    """`run_finished` carries a newly saved run's folder;
    `use_model` a folder to open in Classify;
    `models_wanted(reason)` the Models place, asked for or needed (a model missing)."""

    status = Signal(str)
    use_model = Signal(str)
    run_finished = Signal(Path)
    models_wanted = Signal(str)

    def __init__(self, settings: QSettings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.shown_runs = PerDataset(settings, SHOWN_RUNS)
        self.store: DatasetStore | None = None
        self.job: Job | None = None
        self._found: list[str] = []  # what the last run's checks found (shown once its job has ended)
        self._not_started = False  # the last Start was stopped by its checks: its line goes once they are put right
        self.form = SettingsForm(recent_bases(settings))
        self.choices = FormChoices(settings, self.form)
        self.choices.restore()
        self.form.base_changed.connect(lambda: self.update_blockers())
        self.form.words_changed.connect(lambda on: self.curves_note.setVisible(on or self._shown_words))
        self.form.words_changed.connect(self._words_ticked)
        self.form.words_changed.connect(lambda _on: self.update_blockers())
        self._shown_words = False  # the run shown used words
        self._run_with_words = False  # the run in progress was asked to learn the words
        self.message = MessageBar()
        self.progress = ProgressPanel()
        self.curves = TrainingCurves()
        self.results = ResultsPanel()
        self.runs = RunsPanel()
        self.runs.selected.connect(self._run_selected)
        self.runs.renamed.connect(self._run_renamed)
        self.runs.use_model.connect(self.use_model)
        self.runs.failed.connect(lambda text: self.message.show_message(text, "error"))
        self._build()
        self.set_dataset(None)

    def _build(self) -> None:
        self.blockers = red_or_amber(QLabel(), "#b02a2a")
        self.warnings = red_or_amber(QLabel(), "#9a5b00")
        self.start_button = QPushButton("▶  Start training")
        self.start_button.setMinimumHeight(40)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop training; the best model tested so far is saved (none before the "
                                      "first test)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.models_button = QPushButton("Models…")
        self.models_button.setToolTip("The base model, speech recogniser and text encoder: which are used, "
                                      "whether they are downloaded; download them or choose folders")
        self.models_button.clicked.connect(lambda: self.models_wanted.emit(""))
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.models_button)
        settings_page = QWidget()
        column = QVBoxLayout(settings_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.form)
        column.addStretch(1)
        with self.form.unfolded():
            widest = settings_page.sizeHint().width()
        scroll = FormScroll(settings_page, widest)
        self.form.advanced.toggled.connect(scroll.updateGeometry)  # the form's height changed
        # The form scrolls; what stops or hurts a run, Start and Cancel and the progress stay in view below it
        # (the reasons were under the form, seen only by someone who scrolled down to them).
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(scroll)
        for notice in (self.blockers, self.warnings):
            left_column.addWidget(notice)
        left_column.addLayout(buttons)
        left_column.addWidget(self.progress, 1)
        self.curves_note = keep_room_when_hidden(red_or_amber(QLabel(CURVES_NOTE), "#555"))  # curves never shrink
        self.curves_page = QWidget()
        curves_column = QVBoxLayout(self.curves_page)
        curves_column.setContentsMargins(0, 0, 0, 0)
        curves_column.addWidget(self.curves, 1)
        curves_column.addWidget(self.curves_note)
        self.curves_note.setVisible(self.form.uses_words())
        self.views = QTabWidget()
        self.views.addTab(self.curves_page, "Curves")
        self.views.addTab(self.results, "Results")
        self.views.addTab(self.runs, "Runs")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(side_by_side(left, self.views), 1)

    # ------------------------------------------------------------------ dataset and blockers
    def set_dataset(self, store: DatasetStore | None) -> None:
        """The dataset changed (another one opened, or clips added, relabelled or deleted)."""
        new_root = store is None or self.store is None or store.root != self.store.root
        self.store = store
        if store is None:
            self.form.dataset_label.setText("none: open or create one in the File menu")
        else:
            counts = store.label_counts()
            try:
                typed = typed_only_labels(store)
            except (IntentDeskError, OSError):  # phrases.csv unreadable: the Label tab says why
                typed = []
            also = f" + {len(typed)} typed only ({', '.join(typed[:3])}{'…' if len(typed) > 3 else ''}: learned " \
                   "when learning from the words)" if typed else ""
            self.form.dataset_label.setText(f"{store.root.name}: {count(len(store), 'clip')}, "
                                            f"{count(len(counts), 'label')}{also}")
        self.form.set_clip_count(len(store) if store is not None else 0)
        self.update_blockers()
        if new_root:
            self._list_runs(store.root if store is not None else None)

    def update_blockers(self, found: list[str] | None = None) -> list[str]:
        """Explain what stops training (with `found`: what the checks of a run found), and what will
        make it go badly. Start stays enabled while only the slow checks are left to do: they run
        in the run's job, so a click never freezes the window."""
        problems = ["open a dataset first"] if self.store is None else \
            training_blockers(self.store, self.form.uses_words())  # typed-only intents count with words
        problems += self.form.problems() + list(found or [])
        self.blockers.setText("\n".join(f"• Cannot start: {p}" for p in problems))
        warnings = label_warnings(self.store.label_counts()) if self.store is not None else []
        warnings += self._not_here_offline()
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.blockers.setVisible(bool(problems))  # an empty line would still take its margins' room
        self.warnings.setVisible(bool(warnings))
        self.start_button.setEnabled(not self.is_running() and self.store is not None and not problems)
        if self._not_started and not problems:  # what stopped the last Start is put right: its line goes
            self.progress.phase.setText("")
            self._not_started = False
        return problems

    def _not_here_offline(self) -> list[str]:
        """Models the run needs that are not on this computer while it is set to work offline: said before
        Start (files only, no network), where a new user found out only after pressing it."""
        if not hub_is_offline():
            return []
        wanted = [(BASE_MODEL, self.form.base_model())]
        if self.form.uses_words():
            wanted += [(RECOGNISER, self.form.fields["asr"].value()),
                       (TEXT_ENCODER, self.form.fields["text_encoder"].value())]
        return [f"the {role.noun} {source} is not on this computer, and this computer works offline: choose a "
                "folder (Folder… or Models…)" for role, source in wanted
                if source and status_of(role, source).state is State.NOT_DOWNLOADED]

    # ------------------------------------------------------------------ run
    def start(self) -> bool:
        """Start a run when nothing known stops it; the checks that read every clip or ask the hub
        are the job's first step (`run_training`), and stop it with their reasons shown here."""
        if self.is_running() or self.update_blockers():
            return False
        settings = self.form.settings()
        self.choices.remember(settings.base_model)
        data_root, out = self.store.root, new_run_dir(self.store.root, settings.mode, settings.base_model)
        self.curves.clear()
        self.results.clear()
        self.message.hide()
        self._run_with_words = bool(getattr(settings, "words", False))
        words = f", with words ({settings.asr}, {settings.text_encoder})" if self._run_with_words else ""
        self.progress.begin(f"Run {out.name}: {settings.mode} mode, base {settings.base_model}{words}",
                            self._run_with_words)
        self.job = start_job(self, lambda emit, cancel: run_training(data_root, out, settings, emit, cancel),
                             self._on_finished, self._on_failed, self._on_event, on_finished=self._job_ended)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.form.set_locked(True)  # the run has its settings: changes now would not apply to it
        self.views.setCurrentWidget(self.curves_page)
        self.status.emit("Training started")
        return True

    def cancel(self) -> None:
        if self.is_running():
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress.cancelling()

    def _on_event(self, event) -> None:
        self.progress.on_event(event)
        if isinstance(event, StepEvent):
            self.curves.add_step(event.epoch, event.loss)
        elif isinstance(event, EpochEvent):
            self.curves.add_epoch(event.epoch, event.eval_loss, event.accuracy, event.macro_f1, event.is_best)

    def _on_finished(self, record: RunRecord | NotStarted) -> None:
        """The trainer's record (`path` is None when the run was cancelled before anything was
        saved), or what the checks before it found."""
        if isinstance(record, NotStarted):
            where = "the reasons are under the settings" + ("; the Models window says which model is missing"
                                                            if record.models else "")
            self.progress.end(Outcome.FAILED, False, error=f"it did not start: {where}")
            self._not_started = True
            self.status.emit("Training did not start")
            self._found = record.problems
            if record.models:
                self.models_wanted.emit("; ".join(record.models))
            return
        cancelled = record.cancelled or record.path is None
        self.progress.end(Outcome.CANCELLED if cancelled else Outcome.FINISHED, record.path is not None)
        if record.path is None:
            self.message.show_message("Training was cancelled before the first test: no model was saved.",
                                      "warning")
        else:
            self.show_run(record, curves=False)
            kept = "the quick model from stage 1, the whole model not fine-tuned" if record.saved_stage == STAGE_1 \
                else "the best model so far"
            note = f" (cancelled: {kept})" if cancelled else ""
            if cancelled and self._run_with_words and not record.has_words:
                note = f" (cancelled before it learned the words: it classifies by sound only; {kept})"
                self.progress.add_log("The model saved classifies by sound only: the run was cancelled before it "
                                      "learned the words.")
            # what a cancel kept stays on screen until the next message: it is read after the fact
            self.message.show_message(f"Model saved: {record.path}{note}", "info", 0 if cancelled else 8000)
            self.runs.refresh(self.store.root if self.store is not None else None, select=record.path)
            self._remember_shown(record)
            self.run_finished.emit(record.path)
        self.status.emit("Training cancelled" if cancelled else "Training finished")

    def _on_failed(self, message: str) -> None:
        self.message.show_message(message, "error")
        self.progress.end(Outcome.FAILED, False, error=first_line(message))
        self.status.emit("Training failed")

    def _job_ended(self) -> None:
        self.cancel_button.setEnabled(False)
        self.form.set_locked(False)
        found, self._found = self._found, []
        self.update_blockers(found)

    def _words_ticked(self, on: bool) -> None:
        """Learning from the words needs a recogniser and an encoder: on a computer set to work offline,
        one that is not there sends the person to the Models place now, not after the sound model trained
        (the hub is asked only by Start, off the GUI thread)."""
        if on and hub_is_offline():
            missing = [reason for role in WORDS_ROLES if role.key in self.form.fields and (
                reason := missing_reason(role, self.form.fields[role.key].value(), reachable=lambda: False))]
            if missing:
                self.models_wanted.emit("; ".join(missing))

    # ------------------------------------------------------------------ past runs
    def show_run(self, record: RunRecord, curves: bool = True) -> None:
        """Show a saved run's results (and its curves, unless they were just drawn live)."""
        if record.accuracy is None:
            self.results.clear()
            self.message.show_message(f"{record.name}: no readable metrics.json", "warning", 5000)
            return
        if curves:
            self.curves.load_history(record.history, record.step_losses, record.best_epoch, record.final_pass_losses)
        self.curves.mark_best(record.best_epoch)
        self.results.show_metrics(record.metrics)
        self._shown_words = bool(getattr(record, "has_words", False))
        self.curves_note.setVisible(self._shown_words or self.form.uses_words())

    def _run_selected(self, record: RunRecord) -> None:
        if not self.is_running():
            self.show_run(record)
            self._remember_shown(record)

    def _run_renamed(self, old: Path, new: Path) -> None:
        root = self.store.root if self.store is not None else None
        if self.shown_runs.get(root) == old:  # the run shown keeps being the one shown after a restart
            self.shown_runs.set(root, new)

    def _remember_shown(self, record: RunRecord) -> None:
        self.shown_runs.set(self.store.root if self.store is not None else None, record.path)

    def _list_runs(self, dataset_root: Path | None) -> None:
        """The dataset's runs, with the one shown when it was last open shown again (results and curves)."""
        shown = self.shown_runs.get(dataset_root) if dataset_root is not None else None
        self.runs.refresh(dataset_root, select=shown)
        record = read_run(shown) if shown is not None and self.runs.current_path() == shown else None
        if record is not None:
            self.show_run(record)

    # ------------------------------------------------------------------ closing
    def is_running(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def ask_close(self, parent) -> bool:
        """Modal question (tests replace this method)."""
        answer = QMessageBox.question(parent, "Training is running",
                                      "Training is still running. Stop it and close? The best model tested so far "
                                      "is saved.")
        return answer == QMessageBox.Yes

    def confirm_close(self, parent) -> bool:
        if self.is_running():
            if not self.ask_close(parent):
                return False
            self.job.cancel_and_wait(60000)
        self.runs.export.shutdown()  # an app being made for others stops (its partial file is removed)
        return True
