"""The window of an app made for someone else: Classify only, with the one model the app carries.

The person it is made for never trains: no Label or Train tab, no datasets, no Models dialog (its
models are for training), and the model can be neither changed nor closed. The line at the top
says which model it is and what it was trained on (`CarriedModel.line`); everything else is the
Classify tab as it is: drop or open files, record, live mode, the ranked intents, CSV export.
Only the Classify tab's modules are imported, so the window opens without the training code.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from intentdesk import __version__
from intentdesk.core.audio.microphone import StreamFactory, input_devices
from intentdesk.core.packaging.carried import CarriedModel
from intentdesk.gui.classify.tab import ClassifyTab
from intentdesk.gui.common.gc_guard import collect_in_gui_thread
from intentdesk.gui.common.microphone import Microphone
from intentdesk.resources import resource

GEOMETRY = "carried/geometry"
NOT_LOADED = "The model this app carries is not loaded (the message above says why)."


class CarriedWindow(QMainWindow):
    """The Classify tab alone, its model locked to the carried one, under a line that says what it is."""

    def __init__(self, settings: QSettings, carried: CarriedModel, stream_factory: StreamFactory | None = None,
                 list_devices=input_devices) -> None:
        super().__init__()
        collect_in_gui_thread()  # before any job thread exists: see gui/common/gc_guard.py
        self.settings = settings
        self.carried = carried
        icon = resource("icon.png")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))
        self.microphone = Microphone(list_devices, stream_factory, self)
        self.classify_tab = ClassifyTab(settings, self.microphone)
        self.classify_tab.lock_model(carried.model_dir, NOT_LOADED)
        self.model_line = QLabel(carried.line())
        self.model_line.setTextFormat(Qt.PlainText)  # names come from a file someone sent: never markup
        self.model_line.setWordWrap(True)
        self.model_line.setStyleSheet("font-weight: bold; padding: 6px 9px 0 9px;")
        self.model_line.setToolTip(facts_tip(carried))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.model_line)
        layout.addWidget(self.classify_tab, 1)
        self.setCentralWidget(central)
        self.classify_tab.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self._build_menus()
        self.setWindowTitle(f"IntentDesk — {carried.name}")
        geometry = settings.value(GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        self.statusBar().showMessage("Drop audio files here, open them, or record: the model ranks the intents")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_files = QAction("&Open audio files…", self)
        open_files.setShortcut(QKeySequence.Open)
        open_files.triggered.connect(self.classify_tab.results.open_button.click)
        file_menu.addAction(open_files)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        about = QAction("&About this app", self)
        about.triggered.connect(lambda: QMessageBox.about(self, "About this app", about_text(self.carried)))
        self.menuBar().addMenu("&Help").addAction(about)

    def closeEvent(self, event) -> None:
        self.settings.setValue(GEOMETRY, self.saveGeometry())
        self.classify_tab.shutdown()
        self.microphone.close()
        event.accept()


def facts_tip(carried: CarriedModel) -> str:
    """The technical facts behind the model line (plain text)."""
    rows = [("Base model", carried.base_model), ("Mode", carried.mode), ("Speech recogniser", carried.recogniser),
            ("Text encoder", carried.text_encoder)]
    return "\n".join(f"{name}: {value}" for name, value in rows if value)


def about_text(carried: CarriedModel) -> str:
    return (f"<b>IntentDesk {escape(__version__)}</b>, made to classify speech with one model.<br><br>"
            f"{escape(carried.line())}<br><br>{escape(facts_tip(carried)).replace(chr(10), '<br>')}<br><br>"
            "Drop or record audio and read the ranked intents; the table exports to CSV. This app does not train.")
