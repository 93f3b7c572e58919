"""The main window: three tabs (Label, Train, Classify), the one microphone, menus, status bar, remembered state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox, QTabWidget

from intentdesk import __version__
from intentdesk.core.audio.microphone import StreamFactory, input_devices
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError
from intentdesk.gui.common import dialogs
from intentdesk.gui.common.gc_guard import collect_in_gui_thread
from intentdesk.gui.common.microphone import Microphone
from intentdesk.gui.help import GettingStarted
from intentdesk.gui.label.tab import LabelTab
from intentdesk.gui.models.choices import ModelChoices, bind_train_form
from intentdesk.paths import datasets_home
from intentdesk.resources import resource

MAX_RECENT = 8
TAB_NAMES = ("label", "train", "classify")

AUTO_TRANSCRIBE = "label/auto_transcribe"  # "Transcribe new clips automatically", remembered


class MainWindow(QMainWindow):
    """Owns what the tabs share (the dataset, the microphone, the settings) and hands it to each."""

    def __init__(self, settings: QSettings, stream_factory: StreamFactory | None = None,
                 list_devices=input_devices) -> None:
        super().__init__()
        collect_in_gui_thread()  # before any job thread exists: see gui/common/gc_guard.py
        self.settings = settings
        self.store: DatasetStore | None = None
        self._help: GettingStarted | None = None
        self.models = ModelChoices(settings, self)  # the base model, recogniser and encoder the tabs use
        self.models_dialog = None  # made when first opened (open_models)
        icon = resource("icon.png")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))
        self.tabs = QTabWidget()
        self.microphone = Microphone(list_devices, stream_factory, self)
        self.label_tab = LabelTab(self.microphone)
        from intentdesk.gui.classify.tab import ClassifyTab
        from intentdesk.gui.train.tab import TrainTab

        self.train_tab = TrainTab(settings)
        self.classify_tab = ClassifyTab(settings, self.microphone)
        self.tabs.addTab(self.label_tab, "Label")
        self.tabs.addTab(self.train_tab, "Train")
        self.tabs.addTab(self.classify_tab, "Classify")
        self.setCentralWidget(self.tabs)
        for tab in (self.label_tab, self.train_tab, self.classify_tab):
            tab.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.label_tab.dataset_changed.connect(lambda: self.train_tab.set_dataset(self.store))
        self.train_tab.use_model.connect(self._use_model_in_classify)
        self.train_tab.run_finished.connect(self.classify_tab.add_run)  # listed in Classify at once
        self.train_tab.run_finished.connect(lambda _folder: self.label_tab.refresh())  # the transcripts it wrote
        self.train_tab.runs.renamed.connect(self.classify_tab.models.run_renamed)
        self._connect_words()
        self._connect_models()
        self._build_menus()
        self.statusBar().showMessage("Ready")
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 780)
        self._update_title()

    def _connect_words(self) -> None:
        """The Label tab's automatic transcripts are the person's own choice, remembered: training with
        words never ticks them (that once set a whole dataset transcribing during a run)."""
        transcriber = self.label_tab.transcriber
        transcriber.auto.setChecked(str(self.settings.value(AUTO_TRANSCRIBE)).lower() in ("true", "1"))
        transcriber.auto.toggled.connect(lambda on: self.settings.setValue(AUTO_TRANSCRIBE, on))

    def _connect_models(self) -> None:
        """The Train form's model fields and the Label tab's Transcribe use the Models choices; every
        button that finds a model missing opens the Models dialog with the reason."""
        bind_train_form(self.models, self.train_tab.form)
        transcriber = self.label_tab.transcriber
        transcriber.set_recogniser(self.models.source("asr"))
        self.models.changed.connect(lambda key, source: key == "asr" and transcriber.set_recogniser(source))
        transcriber.models_wanted.connect(self.open_models)
        self.train_tab.models_wanted.connect(self.open_models)

    def open_models(self, reason: str = "") -> None:
        """The Models dialog (not modal), with `reason`: why it opened, when a button sent the person here."""
        if self.models_dialog is None:
            from intentdesk.gui.models.dialog import ModelsDialog

            self.models_dialog = ModelsDialog(self.models, self)
        self.models_dialog.open_with(reason)

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add(file_menu, "&New dataset…", self.new_dataset, QKeySequence.New)
        self._add(file_menu, "&Open dataset…", self.choose_dataset, QKeySequence.Open)
        self._add(file_menu, "&Import…", self.import_dialog, "Ctrl+I")
        self._add(file_menu, "Import audio &files…", self.import_files, "Ctrl+Shift+I")
        self._add(file_menu, "&Models…", lambda: self.open_models())
        self.recent_menu = file_menu.addMenu("Recent datasets")
        self._fill_recent()
        file_menu.addSeparator()
        self._add(file_menu, "&Quit", self.close, QKeySequence.Quit)
        self.help_menu = self.menuBar().addMenu("&Help")
        self._add(self.help_menu, "&Getting started", self.getting_started, QKeySequence.HelpContents)
        self._add(self.help_menu, "&About IntentDesk", self.about)

    def _add(self, menu, text, slot, keys=None) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def recent_datasets(self) -> list[str]:
        value = self.settings.value("recent/datasets", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_datasets()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_dataset(Path(p)))
        self.recent_menu.setEnabled(bool(recent))

    # ------------------------------------------------------------------ datasets
    def open_dataset(self, path: Path, create: bool = False) -> bool:
        if not create and not (Path(path) / "metadata.csv").exists():
            self.label_tab.message.show_message(not_a_dataset_text(Path(path)), "error")
            return False
        try:
            store = DatasetStore.create(path) if create else DatasetStore.open(path)
        except IntentDeskError as error:
            self.label_tab.message.show_message(str(error), "error")
            return False
        self.store = store
        for tab in (self.label_tab, self.train_tab, self.classify_tab):
            tab.message.hide()  # what was said about the dataset before is not about this one
            tab.set_dataset(store)
        if store.repairs:  # what opening it put right is said, never done unannounced
            self.label_tab.message.show_message("Opening the dataset put things right: " + "; ".join(store.repairs),
                                                "warning")
        path_text = str(store.root.resolve())
        recent = [path_text] + [p for p in self.recent_datasets() if p != path_text]
        self.settings.setValue("recent/datasets", recent[:MAX_RECENT])
        self.settings.setValue("last/dataset", path_text)
        self._fill_recent()
        self._update_title()
        self.statusBar().showMessage(f"Opened {path_text} ({len(store)} clips)", 6000)
        return True

    def new_dataset(self) -> None:
        """A name and a place, like any Save dialog: the folder is made with that name."""
        chosen, _ = QFileDialog.getSaveFileName(self, "New dataset: its name and where to keep it",
                                                str(datasets_home() / "my-dataset"), "",
                                                options=QFileDialog.DontConfirmOverwrite)
        if not chosen:
            return
        folder = Path(chosen)
        if folder.is_dir() and not (folder / "metadata.csv").is_file() and any(folder.iterdir()):
            self.label_tab.message.show_message(f"{folder} already exists and holds other files: "
                                                "choose a new name for the dataset.", "error")
            return
        self.open_dataset(folder, create=True)

    def choose_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder",
                                                  str(datasets_home()))
        if folder:
            self.open_dataset(Path(folder))

    def import_dialog(self) -> None:
        if self.store is None:
            self.label_tab.message.show_message("Open or create a dataset first (File menu).", "warning")
            return
        kinds = ["A folder of label-named folders, or another dataset folder",
                 "Audio files, all of one intent (asks which)", "A Hugging Face hub dataset"]
        kind, ok = QInputDialog.getItem(self, "Import", "Import from:", kinds, 0, False)
        if not ok:
            return
        if kind == kinds[1]:
            self.import_files()
            return
        if kind == kinds[0]:
            folder = QFileDialog.getExistingDirectory(self, "Folder to import", dialogs.start_folder())
            if folder:
                dialogs.remember(folder)
                self.import_source(folder)
            return
        name, ok = QInputDialog.getText(self, "Import from the hub", "Dataset id and configuration:",
                                        text="PolyAI/minds14 en-US")
        if ok and name.strip():
            parts = name.split()
            self.import_source(parts[0], config=parts[1] if len(parts) > 1 else None)

    def import_files(self) -> None:
        """File > Import audio files…: loose files, as when they are dropped on the Label tab (one intent asked
        for); a newcomer with three WAVs on the desktop found only folder and hub imports in the menu."""
        if self.store is None:
            self.label_tab.message.show_message("Open or create a dataset first (File menu).", "warning")
            return
        names, _ = QFileDialog.getOpenFileNames(self, "Audio files to import", dialogs.start_folder(),
                                                dialogs.AUDIO_FILTER)
        if names:
            dialogs.remember(names[0])
            self.tabs.setCurrentWidget(self.label_tab)
            self.label_tab.add_paths([Path(name) for name in names], how="chosen")

    def import_source(self, source: str, config: str | None = None) -> None:
        self.tabs.setCurrentWidget(self.label_tab)
        self.label_tab.import_source(source, config)

    def _use_model_in_classify(self, folder: str) -> None:
        self.classify_tab.open_model(Path(folder))
        self.tabs.setCurrentWidget(self.classify_tab)

    def _update_title(self) -> None:
        name = f" — {self.store.root.name}" if self.store is not None else ""
        self.setWindowTitle(f"IntentDesk{name}")

    # ------------------------------------------------------------------ misc
    def getting_started(self) -> None:
        if self._help is None:
            self._help = GettingStarted(self)
        self._help.show()
        self._help.raise_()

    def about(self) -> None:
        QMessageBox.about(self, "About IntentDesk", about_text())

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TAB_NAMES.index(name))

    def closeEvent(self, event) -> None:
        if not self.train_tab.confirm_close(self):
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.label_tab.shutdown()
        self.classify_tab.shutdown()
        if self.models_dialog is not None:
            self.models_dialog.shutdown()
        self.microphone.close()
        event.accept()


def not_a_dataset_text(folder: Path) -> str:
    """A folder that is not a dataset, told to someone who uses the mouse (the core's message names
    metadata.csv and `intentdesk import`)."""
    if not folder.is_dir():
        return f"The dataset folder {folder} is not there (moved or deleted?): open it where it is now."
    return (f"“{folder.name}” is not an IntentDesk dataset. Open the dataset's own folder (the one File > New "
            "dataset… made), or make a new dataset and bring this folder's audio in with File > Import….")


def about_text() -> str:
    """Versions without importing torch at start-up: read from package metadata."""
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (f"<b>IntentDesk {__version__}</b><br>Speech intent classification.<br><br>"
            f"torch {version('torch')}<br>transformers {version('transformers')}<br>"
            f"PySide6 {version('PySide6-Essentials') if version('PySide6') == 'not installed' else version('PySide6')}")
