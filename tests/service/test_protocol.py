"""Slow or broken clients against a real server (reliability issue #9): deadlines for the request head
(`service.protocol`) and the body (`service.classify.read_body`), over raw sockets on a free loopback port.

No test measures seconds: the deadlines are half a second and the server's keep-alive (the only other
thing that would close these connections) is ten minutes, so a connection the server closes at all
was closed by a deadline, however slow the machine; one it holds fails the test after `WAIT_S`."""

from __future__ import annotations

import socket

import pytest

from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from intentdesk.service.runner import BackgroundService, free_port

WAIT_S = 60.0  # far past the deadlines, far before the keep-alive


def running_server(model, deadline_s: float):
    """A real server with these head and body deadlines (and a key), yielded while it runs."""
    options = ServiceOptions(header_timeout_s=deadline_s, body_timeout_s=deadline_s, api_key="k", keep_alive_s=600)
    service = BackgroundService(create_app(Classifier(model, precision="fp32"), options), port=free_port())
    service.start()
    yield service
    service.stop()


@pytest.fixture
def slow_server(saved_classifier):
    """A real server whose deadlines are half a second (no request here gets as far as the model)."""
    yield from running_server(saved_classifier, 0.5)


def exchange(service, data: bytes) -> bytes:
    """Send `data`, then read until the server closes the connection; everything read."""
    with socket.create_connection((service.host, service.port), timeout=WAIT_S) as conn:
        conn.sendall(data)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            raise AssertionError(f"the server held the connection for {WAIT_S:g} s; got {received[:200]!r}") from None
        return received


def test_slow_headers_get_a_408_and_the_connection_closes(slow_server):
    received = exchange(slow_server, b"POST /classify HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n")
    assert received.startswith(b"HTTP/1.1 408") and b'{"error": "the request headers' in received


def test_a_silent_connection_is_closed(slow_server):
    received = exchange(slow_server, b"")
    assert received == b"" or received.startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize("headers", [b"X-API-Key: k\r\n", b""])  # read by /classify, or refused 401 unread
def test_a_body_shorter_than_its_content_length_times_out(slow_server, headers):
    head = b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n" + headers + b"\r\n"
    received = exchange(slow_server, head + b"RIFF....WAVE")
    assert received.startswith(b"HTTP/1.1 408" if headers else b"HTTP/1.1 401"), received[:200]


def test_a_content_length_shorter_than_the_body_never_gets_text_plain(slow_server):
    body = b"NOT AUDIO\r\n" * 200 + b"\r\n"
    head = f"POST /classify HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: {len(body) // 2}\r\n\r\n"
    received = exchange(slow_server, head.encode() + body)
    assert received.startswith(b"HTTP/1.1 400") and b"text/plain" not in received
    assert received.count(b'{"error":') == 2  # the cut clip, then the rest read as a malformed request


@pytest.mark.parametrize("pieces", [1, 40])  # whole in one read (h11's own limit never looked), or trickled in
def test_a_head_over_the_limit_gets_a_431_however_it_arrives(slow_server, pieces):
    """A 40 KB head: 40 headers of 1 KB, for a request that would otherwise be answered 200."""
    from intentdesk.service.protocol import MAX_HEAD_BYTES

    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(40))
    head = b"GET /health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n"
    assert len(head) > 2 * MAX_HEAD_BYTES
    with socket.create_connection((slow_server.host, slow_server.port), timeout=WAIT_S) as conn:
        step = -(-len(head) // pieces)
        for start in range(0, len(head), step):
            conn.sendall(head[start:start + step])
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 431"), received[:200]
    assert b"request line and headers are over 16 KB" in received


def test_a_head_just_under_the_limit_is_answered(slow_server):
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(14))
    received = exchange(slow_server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + padding + b"\r\n")
    assert received.startswith(b"HTTP/1.1 200"), received[:200]


def test_spaces_around_header_values_count_towards_the_limit(slow_server):
    """h11 strips them before the headers are measured: 100 KB of padding in one header measured 40 bytes."""
    received = exchange(slow_server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad:" + b" " * 20000 + b"v\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 431"), received[:200]


@pytest.fixture
def patient_server(saved_classifier):
    """Deadlines longer than `WAIT_S`: a connection this server closes in time was closed by the linger."""
    yield from running_server(saved_classifier, 600)


def test_an_answer_before_the_body_is_all_sent_stops_reading_it_soon(patient_server):
    """A 401 (no key) to a client that goes on sending a huge body: the rest is read and thrown away for
    `LINGER_S`, then the connection closes; it used to stay open until the next head's deadline, holding
    what arrived in memory (34 MB in 12 s)."""
    import time

    from intentdesk.service.protocol import LINGER_S

    with socket.create_connection((patient_server.host, patient_server.port), timeout=WAIT_S) as conn:
        conn.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 900000000\r\n\r\n")
        conn.setblocking(False)
        received, sent, closed = b"", 0, False
        deadline = time.monotonic() + WAIT_S
        while not closed and time.monotonic() < deadline:
            try:
                sent += conn.send(b"\0" * 65536)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:  # reset or broken pipe once the server has closed
                closed = True
            try:
                chunk = conn.recv(65536)
                received += chunk
                closed = closed or chunk == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
    assert closed, f"the server kept reading for {WAIT_S:g} s"
    assert received.startswith(b"HTTP/1.1 401"), received[:200]
    assert sent < 900_000_000 and LINGER_S < WAIT_S
