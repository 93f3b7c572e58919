"""Starting the app, and rendering it offscreen for screenshots."""

from __future__ import annotations

import os
import sys
import tempfile
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


def microphone_options(fake_mic: str | None) -> dict:
    """The window's microphone: the computer's, or `fake_mic` replayed as one (demos, checks)."""
    if not fake_mic:
        return {}
    from intentdesk.core.audio.microphone import InputDevice
    from intentdesk.core.audio.replay import replay_factory

    return {"stream_factory": replay_factory(Path(fake_mic)),
            "list_devices": lambda: [InputDevice(-1, f"Replay of {Path(fake_mic).name}")]}


def build_carried_window(carried, settings=None, fake_mic: str | None = None):
    """The window of an app made for someone else (`core.packaging.carried`): Classify only."""
    from PySide6.QtCore import QSettings

    from intentdesk.gui.carried_window import CarriedWindow

    return CarriedWindow(settings or QSettings(), carried, **microphone_options(fake_mic))


def build_window(dataset: str | None = None, model: str | None = None, settings=None, fake_mic: str | None = None):
    from PySide6.QtCore import QSettings

    from intentdesk.gui.main_window import MainWindow

    settings = settings or QSettings()
    window = MainWindow(settings, **microphone_options(fake_mic))
    start_dataset = dataset or settings.value("last/dataset")
    if start_dataset and (Path(start_dataset) / "metadata.csv").is_file():
        window.open_dataset(Path(start_dataset))
    elif dataset and Path(dataset).is_dir() and not any(Path(dataset).iterdir()):
        window.open_dataset(Path(dataset), create=True)  # `--dataset NEW_EMPTY_FOLDER`: a new dataset there
    if model:
        window.classify_tab.open_model(Path(model))
    return window


def run_app(dataset: str | None = None, model: str | None = None, fake_mic: str | None = None,
            carried=None) -> int:
    """The app; with `carried` (a `CarriedModel`), the Classify-only window of an app made for someone else."""
    app = make_application()
    window = build_carried_window(carried, fake_mic=fake_mic) if carried is not None else \
        build_window(dataset, model, fake_mic=fake_mic)
    window.show()
    return app.exec()


def screenshot(tab: str, out: Path, dataset: str | None = None, model: str | None = None,
               size: tuple[int, int] = (1280, 800), fake_mic: str | None = None) -> Path:
    """Render the window with `tab` selected to a PNG, without a screen.

    With a model, the Classify tab also classifies the dataset's first clips, so the picture
    shows what a user sees after dropping files.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="intentdesk-screenshot-") as scratch:
        return _render(tab, Path(out), Path(scratch) / "settings.ini", dataset, model, size, fake_mic)


def _render(tab: str, out: Path, settings_file: Path, dataset: str | None, model: str | None,
            size: tuple[int, int], fake_mic: str | None) -> Path:
    """The screenshot itself, with throw-away settings (the window saves its geometry on close)."""
    from PySide6.QtCore import QSettings

    app = make_application()
    settings = QSettings(str(settings_file), QSettings.IniFormat)
    window = build_window(dataset, None, settings, fake_mic=fake_mic)
    window.resize(*size)
    window.show_tab(tab)
    window.show()
    classify = window.classify_tab
    if model:
        target = Path(model).expanduser().resolve()
        classify.open_model(target)
        _wait(app, lambda: classify.model_dir == target or classify.message.kind == "error")
        if tab == "classify" and window.store is not None and classify.model_dir == target:
            done = []
            classify.batch_done.connect(lambda: done.append(True))
            sample = window.store.clips[:: max(1, len(window.store) // 6)][:6]
            classify.classify_files([window.store.path_of(c) for c in sample])
            _wait(app, lambda: bool(done))
    if tab == "train":
        window.train_tab.runs.select_first()
    _wait(app, lambda: False, 0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    window.close()
    return out


def _wait(app, condition, seconds: float = 60.0) -> None:
    """Run the event loop until `condition()` holds or `seconds` pass."""
    import time

    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
