"""The Runs panel: the dataset's saved runs, to look at again, use in Classify, make an app of, rename or delete."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.runs import delete_run, list_runs, read_run, rename_run
from intentdesk.gui.train.handover import BUTTON_TEXT, BUTTON_TIP, AppExport


def folder_megabytes(folder: Path) -> float:
    """Disk space a run takes (a model is tens of MB: worth saying before deleting one)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) / 1e6


class RunsPanel(QWidget):
    """A list of runs, newest first, with Use in Classify, Make an app for others…, Rename… and Delete… for
    the selected one.

    `selected` carries the RunRecord picked in the list; `use_model` the folder to classify with;
    `changed` follows a rename or delete (other lists of runs are stale then); `failed` a message.
    """

    selected = Signal(object)
    use_model = Signal(str)
    changed = Signal()
    renamed = Signal(Path, Path)  # a run's folder, before and after: Classify may be using it
    failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.dataset_root: Path | None = None
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._current_changed)
        self.use_button = self._button("Use in Classify", self._use_selected,
                                       "Open this model in the Classify tab to try it on new audio")
        self.rename_button = self._button("Rename…", self.rename_selected, "Give this run's folder a name you "
                                          "will recognise")
        self.delete_button = self._button("Delete…", self.delete_selected, "Remove this run's model folder "
                                          "from the disk (it cannot be undone)")
        self.app_button = self._button(BUTTON_TEXT, self.make_app, BUTTON_TIP)
        self.export = AppExport()
        self.export.failed.connect(self.failed)
        self.export.job_changed.connect(self._enable_buttons)
        buttons = QHBoxLayout()
        for button in (self.use_button, self.app_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        hint = QLabel("Each run is saved in the dataset's models/ folder.")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.export)
        self.refresh(None)

    def _button(self, text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def refresh(self, dataset_root: Path | None, select: Path | None = None) -> None:
        """List the runs of `dataset_root`; `select` (a run folder) becomes the current row."""
        self.dataset_root = dataset_root
        self.list.blockSignals(True)  # refilling is not the user picking a run
        self.list.clear()
        for run in list_runs(dataset_root):
            item = QListWidgetItem(run.summary())
            item.setToolTip(run.summary())  # the whole line, where the list is narrower than what a run is
            item.setData(Qt.UserRole, str(run.path))
            self.list.addItem(item)
            if select is not None and run.path == Path(select):
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._enable_buttons()

    def _enable_buttons(self) -> None:
        """The buttons act on the selected run: none without runs; one app is made at a time."""
        for button in (self.use_button, self.app_button, self.rename_button, self.delete_button):
            button.setEnabled(self.list.count() > 0)
        self.app_button.setEnabled(self.list.count() > 0 and not self.export.running)

    def select_first(self) -> None:
        if self.list.count():
            self.list.setCurrentRow(0)

    def current_path(self) -> Path | None:
        item = self.list.currentItem() or self.list.item(0)
        return Path(item.data(Qt.UserRole)) if item is not None else None

    def _current_changed(self, item) -> None:
        record = read_run(Path(item.data(Qt.UserRole))) if item is not None else None
        if record is not None:
            self.selected.emit(record)

    def _use_selected(self) -> None:
        path = self.current_path()
        if path is not None and read_run(path) is not None:
            self.use_model.emit(str(path))

    def make_app(self) -> bool:
        """Make an app for others… of the selected run (asks where to save it; runs in the background)."""
        path = self.current_path()
        return path is not None and read_run(path) is not None and self.export.start(path)

    # ------------------------------------------------------------------ rename and delete
    def ask_new_name(self, current: str) -> str | None:
        """Modal question (tests replace this method); None when cancelled."""
        name, ok = QInputDialog.getText(self, "Rename run", "New name for the run's folder:", text=current)
        return name if ok else None

    def ask_delete(self, name: str, megabytes: float) -> bool:
        """Modal confirmation (tests replace this method)."""
        answer = QMessageBox.question(self, "Delete run", f"Delete the run {name} ({megabytes:.0f} MB on disk)?\n"
                                      "Its model is removed from the disk; this cannot be undone.")
        return answer == QMessageBox.Yes

    def rename_selected(self) -> Path | None:
        path = self.current_path()
        name = self.ask_new_name(path.name) if path is not None else None
        if not name or name.strip() == path.name:
            return None
        try:
            target = rename_run(path, name)
        except (IntentDeskError, OSError) as error:
            self.failed.emit(f"Cannot rename {path.name}: {error}")
            return None
        self.refresh(self.dataset_root, select=target)
        self.renamed.emit(path, target)
        self.changed.emit()
        return target

    def delete_selected(self) -> bool:
        path = self.current_path()
        if path is None or not self.ask_delete(path.name, folder_megabytes(path)):
            return False
        try:
            delete_run(path)
        except (IntentDeskError, OSError) as error:
            self.failed.emit(f"Cannot delete {path.name}: {error}")
            return False
        self.refresh(self.dataset_root)
        self.changed.emit()
        return True
