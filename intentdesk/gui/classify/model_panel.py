"""The Model panel: which model Classify uses (runs list, Open folder…), loading it, and remembering the choice."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from intentdesk.core.runs import list_runs, read_run
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.jobs import Job, start_job, stop_jobs
from intentdesk.gui.common.remembered import PerDataset
from intentdesk.gui.common.widgets import BusyRow
from intentdesk.gui.common.wording import percent

if TYPE_CHECKING:
    from intentdesk.core.runs import RunRecord

# JSON: dataset folder ("" for none) -> the model Classify used last with it, chosen or started with: after a restart
# the same model is in use again (it stays in use while new runs finish, so a restart must not swap it either)
LAST_USED_KEY = "classify/chosen_models"  # (its name from when only a choice was kept)
INFO_LINES = 3
LOAD_WAIT_MS = 120_000  # a load cannot be interrupted; its thread must end before the window goes
NO_MODEL_TEXT = "No model loaded. Train one in the Train tab, or choose a model folder (Open folder…)."
# How the chosen inference format reads to a user (core/models/precision/ picks it per machine); the
# format's own name is in the tooltip (`precision_tip`).
PRECISION_NAMES = {"fp32": "exact arithmetic", "bf16": "faster, slightly rounded arithmetic",
                   "int8": "faster, compact arithmetic"}
PRECISION_TERMS = {"fp32": "float32", "bf16": "bfloat16", "int8": "int8"}


def load_classifier(folder: Path):
    """Runs in a worker: importing torch and transformers takes seconds, never on the GUI thread."""
    from intentdesk.core.inference.classifier import Classifier

    return Classifier(folder)


def words_line(classifier, info: dict) -> str:
    """Whether the model listens to the words too, which models that needs, or why that part is off."""
    problem = getattr(classifier, "words_problem", None)
    if problem:
        return f"<span style='color:#9a5b00'>⚠ {escape(problem[:1].upper() + problem[1:])}</span>"  # says it all
    if getattr(classifier, "has_words", False):
        needs = " and ".join(escape(str(info[key])) for key in ("recogniser", "text_encoder") if info.get(key))
        uses = "Uses the words only (learned from typed phrases, no recordings)" if info.get("words_only") else \
            "Uses the sound and the words (what is said)"
        return f"{uses}{f': {needs}' if needs else ''}."
    return "Uses the sound only (trained without words)."


def describe(classifier) -> str:
    """The model line: name, base, eval metrics, number format and labels, then whether it uses words."""
    info = classifier.info()
    accuracy = info.get("accuracy")
    tested_on = "the typed phrases kept aside" if info.get("words_only") else "its test clips"
    metrics = f"right on {percent(accuracy)} of {tested_on}" if isinstance(accuracy, (int, float)) else "not tested"
    precision = str(info["precision"])
    return (f"<b>{escape(Path(classifier.model_dir).name)}</b> · base {escape(str(info['base_model']))} · {metrics} · "
            f"{escape(PRECISION_NAMES.get(precision, precision))}<br>"
            f"Labels: {escape(', '.join(info['labels']))}<br>{words_line(classifier, info)}")


def precision_tip(classifier) -> str:
    """The technical facts behind the model line's plain words."""
    info = classifier.info()
    macro = info.get("macro_f1")
    scores = f"Test accuracy {info['accuracy']:.3f}, macro-F1 {macro:.3f}. " if isinstance(macro, (int, float)) and \
        isinstance(info.get("accuracy"), (int, float)) else ""
    precision = str(info["precision"])
    return (f"{scores}Number format: {PRECISION_TERMS.get(precision, precision)} (chosen on this computer: the "
            "fastest that gives the same scores as float32).")


def default_model(runs: list[RunRecord], chosen: Path | None) -> Path | None:
    """The model to start with: the one used last, else the newest run that was not cancelled."""
    if chosen is not None and chosen.is_dir():
        return chosen
    finished = [run for run in runs if not run.cancelled] or runs
    return finished[0].path if finished else None


class ModelPanel(QGroupBox):
    """Loads one model at a time in the background; the model in use stays in use (and shown)
    until the new one is ready, and stays after a failed load.

    `loaded` carries each newly loaded classifier, `failed` a load's error message."""

    loaded = Signal(object)
    failed = Signal(str)
    loading_changed = Signal(str)  # the name of the model being loaded; "" when none is
    status = Signal(str)

    def __init__(self, settings: QSettings, parent=None) -> None:
        super().__init__("Model", parent)
        self.settings = settings
        self.last_used = PerDataset(settings, LAST_USED_KEY)
        self.classifier = None
        self.dataset_root: Path | None = None
        self.default: Path | None = None
        self._cancelled: set[Path] = set()  # runs listed that were cancelled (not the model to start with)
        self._loading: Job | None = None
        self._loading_folder: Path | None = None
        self._queued: Path | None = None
        self.no_model_text = NO_MODEL_TEXT
        self._build()

    def _build(self) -> None:
        self.combo = QComboBox()
        self.combo.setMinimumWidth(320)
        self.combo.activated.connect(self._combo_chosen)
        self.open_button = QPushButton("Open folder…")
        self.open_button.clicked.connect(self.choose_folder)
        self.row = QHBoxLayout()
        self.row.addWidget(self.combo, 1)
        self.row.addWidget(self.open_button)
        self.info = QLabel(NO_MODEL_TEXT)
        self.info.setWordWrap(True)
        self.info.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        # The model's three lines (name, labels, words) have their room before any model is loaded, and the
        # loading row keeps its room when hidden: loading or changing a model never moves the panels below.
        self.info.setMinimumHeight(INFO_LINES * self.info.fontMetrics().lineSpacing())
        self.busy = BusyRow()  # a moving bar: loading takes 10-30 s
        self.busy_text = self.busy.text
        layout = QVBoxLayout(self)
        layout.addLayout(self.row)
        layout.addWidget(self.info)
        layout.addWidget(self.busy)
        self._show_busy(None)

    # ------------------------------------------------------------------ which models
    @property
    def model_dir(self) -> Path | None:
        return Path(self.classifier.model_dir) if self.classifier is not None else None

    @property
    def loading(self) -> bool:
        """A load is under way (or queued behind one)."""
        return self._loading is not None

    def set_dataset_root(self, root: Path | None) -> None:
        """List the runs of a dataset and pick the model to start with (loaded by `load_default`)."""
        self.dataset_root = Path(root).resolve() if root is not None else None
        runs = list_runs(self.dataset_root)
        self.combo.clear()
        for run in runs:
            self.combo.addItem(run.summary(), str(run.path.resolve()))
        self._cancelled = {run.path.resolve() for run in runs if run.cancelled}
        self.default = default_model(runs, self._last_used_model())
        self._select_current()

    def run_renamed(self, old: Path, new: Path) -> None:
        """A run renamed in the Train tab: listed by its new name at once, and, when it is the model in use,
        loaded again from its new folder (the one in memory answers meanwhile), so what is shown and remembered
        is a folder that exists."""
        in_use = self.model_dir is not None and self.model_dir == Path(old).resolve()
        self.set_dataset_root(self.dataset_root)
        if in_use:
            self.open_model(Path(new))

    def lock(self, folder: Path, no_model_text: str) -> None:
        """Only this model, for good (an app made for someone else): no list of runs and no Open folder…;
        it loads when the tab is first shown (`load_default`), and it is never remembered as a choice.
        `no_model_text` is what the panel says while it is not loaded (not "train one")."""
        self.default = Path(folder).expanduser().resolve()
        self.no_model_text = no_model_text
        self.info.setText(no_model_text)
        self.combo.hide()
        self.open_button.hide()

    def add_run(self, folder: Path) -> None:
        """A run just finished (in the Train tab): list it first; with no model yet, it is the one to load,
        unless it was cancelled and a finished run is there to start with (the better model, most often)."""
        run = read_run(Path(folder))
        if run is None:
            return
        self._add_item(run.summary(), run.path)
        if run.cancelled:
            self._cancelled.add(run.path.resolve())
        keep = run.cancelled and self.default is not None and self.default not in self._cancelled
        if self.classifier is None and not self.loading and not keep:
            self.default = run.path.resolve()
        self._select_current()

    def load_default(self) -> None:
        """Load the starting model if none is loaded or loading (called when the tab is first shown)."""
        if self.classifier is None and not self.loading and self.default is not None:
            self.open_model(self.default)

    def choose_folder(self) -> None:
        folder = dialogs.choose_model_folder(self, "Choose a Hugging Face audio-classification model folder")
        if folder:
            self.open_model(Path(folder))

    def _combo_chosen(self, index: int) -> None:
        folder = self.combo.itemData(index)
        if folder:
            self.open_model(Path(folder))

    # ------------------------------------------------------------------ loading
    def open_model(self, folder: Path) -> None:
        """Load a model in the background; once loaded it is the one remembered for the dataset.

        One load at a time: asking for another model while one loads queues the newest request;
        asking for the model that is loading or loaded already does nothing."""
        folder = Path(folder).expanduser().resolve()
        if self._loading is not None:
            if folder != self._loading_folder:
                self._queued = folder
            return
        if folder == self.model_dir:
            return
        self._loading_folder = folder
        self._show_busy(folder)
        self._loading = start_job(self, lambda _emit, _cancel: load_classifier(folder),
                                  self._loaded, self._failed)

    def _load_ended(self) -> None:
        """After a load succeeded or failed: the next requested model, if any."""
        self._loading = None
        self._show_busy(None)
        queued, self._queued = self._queued, None
        if queued is not None:
            self.open_model(queued)

    def _loaded(self, classifier) -> None:
        self.classifier = classifier
        self._remember(self.model_dir)
        self.info.setText(describe(classifier))
        self.info.setToolTip(precision_tip(classifier))
        self._select_current()
        self.status.emit(f"Model loaded: {self.model_dir.name}")
        self.loaded.emit(classifier)
        self._load_ended()

    def _failed(self, message: str) -> None:
        """The model in use (if any) goes on being used, and the panel goes on showing it."""
        self._select_current()
        self.failed.emit(message)
        self._load_ended()

    def _show_busy(self, folder: Path | None) -> None:
        """The moving bar and "Loading model NAME…" while a load runs; `loading_changed` tells the tab."""
        keeps = " (the current model stays in use until it is ready)" if self.classifier is not None else ""
        self.busy.show_busy(f"Loading model {folder.name}…{keeps}" if folder is not None else "")
        if self.classifier is None:
            self.info.setText("No model in use yet." if folder is not None else self.no_model_text)
        self.loading_changed.emit(folder.name if folder is not None else "")

    def shutdown(self) -> None:
        """Wait for a load under way: destroying its thread while it runs would abort the app."""
        stop_jobs(self, LOAD_WAIT_MS)

    # ------------------------------------------------------------------ combo and settings
    def _add_item(self, text: str, folder: Path) -> None:
        if self.combo.findData(str(Path(folder).resolve())) < 0:
            self.combo.insertItem(0, text, str(Path(folder).resolve()))

    def _select_current(self) -> None:
        """The combo shows the model in use (or, before any load, the one that will be loaded)."""
        folder = self.model_dir or self.default
        if folder is not None and folder.is_dir():  # (a run renamed or deleted meanwhile is not listed again)
            self._add_item(str(folder), folder)  # a model from elsewhere (Open folder…, another dataset)
        self.combo.setCurrentIndex(self.combo.findData(str(folder)) if folder is not None else -1)

    def _last_used_model(self) -> Path | None:
        return self.last_used.get(self.dataset_root)

    def _remember(self, folder: Path) -> None:
        self.last_used.set(self.dataset_root, folder)
