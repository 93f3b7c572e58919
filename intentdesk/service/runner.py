"""Starting the service: from the CLI (blocking) or from the GUI (a background thread).

The listening socket is bound before the model loads, so a port in use is a one-line error at
once, not after a minute of loading. Connections run on `GuardedH11Protocol`, uvicorn's h11
protocol with a deadline for each request's head (uvicorn has none: a client sending its headers
a byte at a time, or nothing at all, would hold its connection forever); the body's deadline is
`read_body`'s.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from intentdesk.core.errors import IntentDeskError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
MAX_HEAD_BYTES = 16 * 1024  # request line + headers; a request is a clip, not a cookie jar


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


def raw_json_response(status: int, reason: str, message: str) -> bytes:
    """A complete `{"error": ...}` answer written straight to the socket (outside any request cycle)."""
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the head of every request on the connection.

    The deadline starts when the connection opens and again after each answer. When it passes
    while the head is still incomplete, the client gets a 408 and the connection closes; when an
    answer went out before the client finished sending its body (413, 401...), the rest of that
    body is not waited for any longer either. Malformed requests get a JSON 400, not text.
    """

    header_timeout_s = 10.0  # set per server by `protocol_class`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_deadline()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _arm_deadline(self) -> None:
        self._cancel_deadline()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.header_timeout_s, self._deadline_passed)

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:  # the next request's head is not (all) here
            self.transport.write(raw_json_response(
                408, "Request Timeout", f"the request headers did not arrive within {self.header_timeout_s:g} s"))
            self.transport.close()
        elif self.conn.our_state in (h11.DONE, h11.MUST_CLOSE) and self.conn.their_state is h11.SEND_BODY:
            self.transport.close()  # answered already; the client is still trickling an unread body

    def send_400_response(self, msg: str) -> None:
        self.transport.write(raw_json_response(
            400, "Bad Request", "malformed HTTP request (request line, headers or body framing); "
                                "send a plain HTTP/1.1 POST with the audio as its body"))
        self.transport.close()


def protocol_class(header_timeout_s: float) -> type[GuardedH11Protocol]:
    return type("IntentDeskHTTP", (GuardedH11Protocol,), {"header_timeout_s": header_timeout_s})


def server_config(app, sock: socket.socket, log_level: str = "info", graceful_s: int = 5):
    """uvicorn settings for the service: guarded protocol, small head limit, short keep-alive."""
    import uvicorn

    options = app.state.options
    return uvicorn.Config(app, host=sock.getsockname()[0], port=sock.getsockname()[1], log_level=log_level,
                          http=protocol_class(options.header_timeout_s), h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                          timeout_keep_alive=5, timeout_graceful_shutdown=graceful_s)


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
