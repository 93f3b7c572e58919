"""Starting the service: from the CLI (blocking) or from the GUI (a background thread)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from pathlib import Path

from intentdesk.core.errors import IntentDeskError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, api_key: str | None) -> None:
    """Only loopback may be served without a key: anything else is reachable from the network."""
    if not is_loopback(host) and not api_key:
        raise IntentDeskError(f"serving on {host} makes the model reachable from other machines; "
                              "add --api-key KEY (clients send it as X-API-Key) or bind to 127.0.0.1")


def build_app(model_dir: Path | str, options, precision: str = "auto"):
    from intentdesk.core.inference import Classifier
    from intentdesk.service.app import create_app

    classifier = Classifier(model_dir, precision=precision)
    return create_app(classifier, options)


def serve(model_dir: Path | str, host: str, port: int, options, precision: str = "auto") -> None:
    import uvicorn

    check_exposure(host, options.api_key)
    app = build_app(model_dir, options, precision)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class BackgroundService:
    """The service in a daemon thread (the Classify tab's "Serve this model")."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8000) -> None:
        import uvicorn

        self.app = app
        self.host, self.port = host, port
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="intentdesk-service", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> int:
        return self.app.state.stats.requests

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._server.started:
            raise IntentDeskError(f"the service could not start on {self.url} (is the port in use?)")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
