"""The connection guard: uvicorn's h11 protocol with a deadline for each request's head, and its settings.

uvicorn has no such deadline: a client sending its headers a byte at a time, or nothing at all,
would hold its connection forever. The body's deadline is `service.classify.read_body`'s.
"""

from __future__ import annotations

import asyncio
import json
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEAD_BYTES = 16 * 1024  # request line + headers; a request is a clip, not a cookie jar
# After refusing a malformed or oversized request, how long what the client still sends is read and thrown
# away before the connection closes. Closing with its data unread makes the client's system reset the
# connection, and a client that is still sending loses the answer saying why it was refused.
LINGER_S = 2.0


def raw_json_response(status: int, reason: str, message: str) -> bytes:
    """A complete `{"error": ...}` answer written straight to the socket (outside any request cycle)."""
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


def head_size(request: h11.Request) -> int:
    """Bytes of a request's line and headers as sent (each header `name: value` and its line end)."""
    line = len(request.method) + len(request.target) + len(b"HTTP/1.1") + 4
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())


class StrictH11Connection(h11.Connection):
    """h11, refusing a request that carries both Content-Length and Transfer-Encoding, or a head over
    `MAX_HEAD_BYTES`.

    h11 frames such a body by Transfer-Encoding; a proxy in front may frame it by Content-Length,
    and what one takes for the rest of a body the other takes for a second request (request
    smuggling: one request in, two answers out). RFC 9112 6.3: treat it as an error and close.

    h11's own size limit applies only to a head still incomplete after a read: a head that arrives
    whole in one read (asyncio reads up to 256 KB at a time) passed at any size. So the whole head is
    measured once parsed, and `refusal` says why a request was refused, for the answer."""

    refusal: tuple[int, str, str] | None = None

    def next_event(self):
        waiting = self._waiting_bytes()
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as error:
            if error.error_status_hint == 431:
                self.refusal = head_too_large()
            raise
        if isinstance(event, h11.Request):
            # the bytes the head took as sent: h11 drops the spaces around header values, which an attacker can
            # pad with (a 100 KB head of spaces measured 40 bytes once parsed)
            sent = waiting - self._waiting_bytes() if waiting is not None else 0
            if max(sent, head_size(event)) > MAX_HEAD_BYTES:
                self.refusal = head_too_large()
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
            names = {name.lower() for name, _ in event.headers}
            if b"transfer-encoding" in names and b"content-length" in names:
                raise h11.RemoteProtocolError("both Content-Length and Transfer-Encoding", error_status_hint=400)
        return event


    def _waiting_bytes(self) -> int | None:
        """How much received data h11 has not turned into events yet (its buffer; None if that ever moves)."""
        buffer = getattr(self, "_receive_buffer", None)
        return len(buffer) if buffer is not None else None


def head_too_large() -> tuple[int, str, str]:
    return (431, "Request Header Fields Too Large",
            f"the request line and headers are over {MAX_HEAD_BYTES // 1024} KB; send the audio as the body "
            "of a plain POST with few headers")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the head of every request on the connection.

    The deadline starts when the connection opens and again after each answer. When it passes
    while the head is still incomplete, the client gets a 408 and the connection closes. When an
    answer went out before the client finished sending its body (413, 401...), what it still sends is
    read and thrown away for `LINGER_S` at most, then the connection closes. Malformed requests (and
    ambiguous framing, see `StrictH11Connection`) get a JSON 400, not text, and the same ending.
    """

    header_timeout_s = 10.0  # set per server by `protocol_class`

    def __init__(self, config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self.conn = StrictH11Connection(h11.SERVER, config.h11_max_incomplete_event_size or MAX_HEAD_BYTES)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False
        super().connection_made(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._refused:  # after a refusal, the rest is read only to be thrown away (`LINGER_S`)
            super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            # answered before the client sent all of its body (401, 404, 413...): what it still sends is thrown
            # away for `LINGER_S` at most, not kept in memory until the next head's deadline (10 s, 34 MB)
            self._close_after_reading_the_rest()
            return
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

    def send_400_response(self, msg: str) -> None:
        status, reason, message = self.conn.refusal or (
            400, "Bad Request", "malformed HTTP request (request line, headers or body framing); "
                                "send a plain HTTP/1.1 POST with the audio as its body")
        self.transport.write(raw_json_response(status, reason, message))
        self._close_after_reading_the_rest()

    def _close_after_reading_the_rest(self) -> None:
        """Answer sent: say that nothing more comes (the client reads to the end and closes), go on reading
        and discarding what it still sends, and close after `LINGER_S` at the latest."""
        self._cancel_deadline()
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def protocol_class(header_timeout_s: float) -> type[GuardedH11Protocol]:
    return type("IntentDeskHTTP", (GuardedH11Protocol,), {"header_timeout_s": header_timeout_s})


def server_config(app, sock: socket.socket, log_level: str = "info", graceful_s: int = 5):
    """uvicorn settings for the service: guarded protocol, small head limit, short keep-alive (`keep_alive_s`)."""
    import uvicorn

    options = app.state.options
    return uvicorn.Config(app, host=sock.getsockname()[0], port=sock.getsockname()[1], log_level=log_level,
                          http=protocol_class(options.header_timeout_s), h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                          timeout_keep_alive=options.keep_alive_s, timeout_graceful_shutdown=graceful_s)
