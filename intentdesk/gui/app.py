"""Starting the app, and rendering it offscreen for screenshots."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def make_application(argv: list[str] | None = None):
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from intentdesk.resources import resource

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName("IntentDesk")
    app.setApplicationName("IntentDesk")
    icon = resource("icon.png")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def build_window(dataset: str | None = None, model: str | None = None, settings=None):
    from PySide6.QtCore import QSettings

    from intentdesk.gui.main_window import MainWindow

    settings = settings or QSettings()
    window = MainWindow(settings)
    start_dataset = dataset or settings.value("last/dataset")
    if start_dataset and (Path(start_dataset) / "metadata.csv").is_file():
        window.open_dataset(Path(start_dataset))
    if model:
        window.classify_tab.open_model(Path(model))
    return window


def run_app(dataset: str | None = None, model: str | None = None) -> int:
    app = make_application()
    window = build_window(dataset, model)
    window.show()
    return app.exec()


def screenshot(tab: str, out: Path, dataset: str | None = None, model: str | None = None,
               size: tuple[int, int] = (1280, 800)) -> Path:
    """Render the window with `tab` selected to a PNG, without a screen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    app = make_application()
    settings = QSettings(str(Path(out).with_suffix(".ini")), QSettings.IniFormat)
    window = build_window(dataset, None, settings)
    window.resize(*size)
    window.show_tab(tab)
    window.show()
    if model:
        loop = QEventLoop()
        window.classify_tab.model_ready.connect(loop.quit)
        window.classify_tab.message.label.linkActivated.connect(loop.quit)
        QTimer.singleShot(60000, loop.quit)
        window.classify_tab.open_model(Path(model))
        loop.exec()
        if tab == "train" and window.train_tab.runs_list.count():
            window.train_tab.runs_list.setCurrentRow(0)
    elif tab == "train" and window.train_tab.runs_list.count():
        window.train_tab.runs_list.setCurrentRow(0)
    for _ in range(5):
        app.processEvents()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    Path(out).with_suffix(".ini").unlink(missing_ok=True)
    window.close()
    return Path(out)
