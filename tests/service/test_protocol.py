"""Slow or broken clients against a real server (reliability issue #9): deadlines for the request head
(`service.protocol`) and the body (`service.classify.read_body`), over raw sockets on a free loopback port."""

from __future__ import annotations

import socket
import time

import pytest

from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from intentdesk.service.runner import BackgroundService, free_port


@pytest.fixture
def slow_server(saved_classifier):
    """A real server whose deadlines are half a second (no request here gets as far as the model)."""
    options = ServiceOptions(header_timeout_s=0.5, body_timeout_s=0.5, api_key="k")
    service = BackgroundService(create_app(Classifier(saved_classifier, precision="fp32"), options), port=free_port())
    service.start()
    yield service
    service.stop()


def exchange(service, data: bytes, wait_s: float = 3.0) -> tuple[bytes, float]:
    """Send `data`, then read until the server closes; (everything read, seconds until closed)."""
    with socket.create_connection((service.host, service.port), timeout=wait_s) as conn:
        started = time.monotonic()
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received, time.monotonic() - started


def test_slow_headers_get_a_408_and_the_connection_closes(slow_server):
    received, seconds = exchange(slow_server, b"POST /classify HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n")
    assert received.startswith(b"HTTP/1.1 408") and b'{"error": "the request headers' in received
    assert seconds < 2.5


def test_a_silent_connection_is_closed(slow_server):
    received, seconds = exchange(slow_server, b"")
    assert seconds < 2.5 and (received == b"" or received.startswith(b"HTTP/1.1 408"))


@pytest.mark.parametrize("headers", [b"X-API-Key: k\r\n", b""])  # read by /classify, or refused 401 unread
def test_a_body_shorter_than_its_content_length_times_out(slow_server, headers):
    head = b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n" + headers + b"\r\n"
    received, seconds = exchange(slow_server, head + b"RIFF....WAVE")
    assert seconds < 2.5
    assert received.startswith(b"HTTP/1.1 408" if headers else b"HTTP/1.1 401"), received[:200]


def test_a_content_length_shorter_than_the_body_never_gets_text_plain(slow_server):
    body = b"NOT AUDIO\r\n" * 200 + b"\r\n"
    head = f"POST /classify HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: {len(body) // 2}\r\n\r\n"
    received, seconds = exchange(slow_server, head.encode() + body)
    assert received.startswith(b"HTTP/1.1 400") and b"text/plain" not in received
    assert received.count(b'{"error":') == 2  # the cut clip, then the rest read as a malformed request
    assert seconds < 2.5
