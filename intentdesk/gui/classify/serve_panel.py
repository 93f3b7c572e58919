"""The Serve row: answer POST /classify over HTTP with the model in use, and show its URL and request count."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from intentdesk.gui.common.jobs import start_job

SERVICE_PORT = 8000  # the usual first choice; another free port when it is taken


def start_service(classifier):
    """Runs in a worker: imports the web stack and binds the port (intentdesk.service)."""
    from intentdesk.service.app import create_app
    from intentdesk.service.runner import BackgroundService, free_port, port_is_free

    service = BackgroundService(create_app(classifier),
                                port=SERVICE_PORT if port_is_free(SERVICE_PORT) else free_port())
    service.start()
    return service


class ServePanel(QWidget):
    """A toggle and a link: the link opens the service's help page (`GET /`) in a browser."""

    problem = Signal(str)
    status = Signal(str)

    def __init__(self, classifier: Callable[[], object], parent=None) -> None:
        super().__init__(parent)
        self._classifier = classifier
        self.service = None  # a BackgroundService while serving
        self.button = QPushButton("Serve this model: off")
        self.button.setCheckable(True)
        self.button.setToolTip("Answer POST /classify over HTTP on this computer (127.0.0.1 only)")
        self.button.toggled.connect(self.set_serving)
        self.info = QLabel("")
        self.info.setOpenExternalLinks(True)
        self.info.setTextInteractionFlags(Qt.TextBrowserInteraction)
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._show_info)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.info, 1)

    def set_serving(self, on: bool) -> None:
        """Start or stop the HTTP service for the model in use."""
        self.button.setText(f"Serve this model: {'on' if on else 'off'}")
        if not on:
            self.stop()
            return
        classifier = self._classifier()
        if classifier is None or self.service is not None:
            return
        self.info.setText("Starting…")
        start_job(self, lambda _emit, _cancel: start_service(classifier), self._started, self._failed)

    def model_changed(self) -> None:
        """The service holds the previous model: switch it off (the user switches it on again)."""
        self.button.setChecked(False)

    def _started(self, service) -> None:
        if not self.button.isChecked():  # switched off while starting
            service.stop()
            return
        self.service = service
        self._show_info()
        self._timer.start()
        self.status.emit(f"Serving at {service.url}")

    def _failed(self, message: str) -> None:
        self.button.setChecked(False)
        self.problem.emit(message)

    def _show_info(self) -> None:
        if self.service is not None:
            url = self.service.url
            self.info.setText(f"POST <a href='{url}/'>{url}/classify</a> · {self.service.requests} request(s)")

    def stop(self) -> None:
        self._timer.stop()
        self.info.setText("")
        if self.service is not None:
            self.service.stop()
            self.service = None
