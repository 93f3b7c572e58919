"""A request with both Content-Length and Transfer-Encoding gets one 400 and a closed connection,
never two answers (the request-smuggling shape behind a proxy), over a raw socket to a real server."""

from __future__ import annotations

import re
import socket

import pytest

from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from intentdesk.service.runner import BackgroundService, free_port


@pytest.fixture
def server(saved_classifier):
    service = BackgroundService(create_app(Classifier(saved_classifier, precision="fp32"), ServiceOptions()),
                                port=free_port())
    service.start()
    yield service
    service.stop()


def read_until_closed(service, data: bytes) -> bytes:
    with socket.create_connection((service.host, service.port), timeout=60) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


SMUGGLED = b"GET /labels HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("te", [b"chunked", b"Chunked", b"gzip, chunked"])
def test_content_length_with_transfer_encoding_is_one_400_then_closed(server, te):
    body = b"0\r\n\r\n" + SMUGGLED
    head = (b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\nTransfer-Encoding: " + te + b"\r\n\r\n")
    received = read_until_closed(server, head + body)
    assert len(re.findall(rb"HTTP/1\.1 \d{3} ", received)) == 1, received
    assert received.startswith(b"HTTP/1.1 400") and b'{"error": "malformed HTTP request' in received


def test_a_plain_keep_alive_pair_still_gets_two_answers(server):
    """The check refuses only the ambiguous shape: two ordinary pipelined requests are both answered."""
    request = b"GET /labels HTTP/1.1\r\nHost: x\r\n\r\n"
    received = read_until_closed(server, request + request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert received.count(b"HTTP/1.1 200") == 2
