"""Starting the service: from the CLI (blocking) or from the GUI (a background thread).

The listening socket is bound before the model loads, so a port in use is a one-line error at
once, not after a minute of loading. Connections run on `protocol.GuardedH11Protocol`, which
gives each request's head a deadline.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import time
from pathlib import Path

from intentdesk.core.errors import IntentDeskError
from intentdesk.service.protocol import server_config

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


def bind_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, ready for uvicorn; `IntentDeskError` naming the fix otherwise."""
    if not 0 <= port <= 65535:
        raise IntentDeskError(f"--port must be between 0 and 65535 (got {port})")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError) as error:
        raise IntentDeskError(f"cannot listen on {host}: the host name does not resolve ({error}); "
                              "use --host 127.0.0.1 or an address of this machine") from error
    sock = socket.socket(family, kind, proto)
    if os.name == "posix":  # restart without waiting for TIME_WAIT (on Windows it would allow stealing the port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise IntentDeskError(f"cannot listen on {host}:{port}: {reason}; choose another --port "
                              "(or stop the program using it)") from error
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def build_app(model_dir: Path | str, options, precision: str = "auto"):
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.service.app import create_app

    classifier = Classifier(model_dir, precision=precision)
    return create_app(classifier, options)


def serve(model_dir: Path | str, host: str, port: int, options, precision: str = "auto") -> None:
    """Check everything that can be checked cheaply (options, exposure, the port), then load and serve."""
    import uvicorn

    options.validate()
    check_exposure(host, options.api_key)
    sock = bind_socket(host, port)
    try:
        app = build_app(model_dir, options, precision)
        print(f"IntentDesk serving {Path(model_dir).name} at {url_of(sock)}/ (POST /classify; Ctrl+C stops)",
              file=sys.stderr, flush=True)
        uvicorn.Server(server_config(app, sock)).run(sockets=[sock])
    finally:
        sock.close()


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
        self.app = app
        self.host, self.port = host, port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> int:
        return self.app.state.stats.requests

    def start(self, timeout: float = 10.0) -> None:
        import uvicorn

        sock = bind_socket(self.host, self.port)  # a port in use fails here, with its reason
        self.port = sock.getsockname()[1]  # port 0 picked one
        self._server = uvicorn.Server(server_config(self.app, sock, log_level="warning", graceful_s=2))
        self._thread = threading.Thread(target=self._run, args=(sock,), name="intentdesk-service", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._server.started:
            raise IntentDeskError(f"the service could not start on {self.url}")

    def _run(self, sock: socket.socket) -> None:
        try:
            self._server.run(sockets=[sock])
        finally:
            sock.close()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
