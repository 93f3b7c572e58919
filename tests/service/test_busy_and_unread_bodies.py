"""Over a raw socket to a real server (issue #17 round 2, found by a hostile-input probe): uploads that stall
after their first bytes keep no one else out, and an answer sent before a body has all arrived (413, 503) reaches
a client that is still sending it instead of being lost to a reset connection."""

from __future__ import annotations

import io
import json
import socket
import time

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from intentdesk.service.runner import BackgroundService, free_port

RATE = 16000
WAIT_S = 60.0


def wav_bytes(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, (np.random.default_rng(0).standard_normal(int(seconds * RATE)) * 0.1).astype(np.float32), RATE,
             format="WAV")
    return buffer.getvalue()


@pytest.fixture
def server(saved_classifier):
    options = ServiceOptions(max_queue_s=2.0, max_body_bytes=2 ** 20, body_timeout_s=WAIT_S, keep_alive_s=600)
    service = BackgroundService(create_app(Classifier(saved_classifier, precision="fp32"), options), port=free_port())
    service.start()
    yield service
    service.stop()


def post(service, body: bytes) -> tuple[int, dict, dict]:
    """Send the whole request (blocking, as most clients do), then read the answer: (status, headers, JSON)."""
    with socket.create_connection((service.host, service.port), timeout=WAIT_S) as conn:
        conn.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(payload)


def test_uploads_stalled_after_their_first_bytes_keep_no_one_out(server):
    """At 1 s a clip, four requests in progress whose bodies never come would count as 4 s of waiting,
    over --max-queue-s 2; only clips handed to the model count, so a whole request is answered."""
    stalled = [socket.create_connection((server.host, server.port), timeout=WAIT_S) for _ in range(4)]
    try:
        for conn in stalled:
            conn.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nRIFF")
        deadline = time.monotonic() + WAIT_S
        while server.app.state.batcher.seconds_per_clip == 0.0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the warm-up's timing, which a test's value must come after
        server.app.state.batcher.seconds_per_clip = 1.0
        status, _, answer = post(server, wav_bytes())
    finally:
        for conn in stalled:
            conn.close()
    assert status == 200 and answer["ranking"], answer


def test_a_413_reaches_a_client_still_sending_its_body(server):
    """A body four times --max-body-mb: the refusal waits for the rest (read and thrown away), so the client,
    which reads only once it has sent everything, gets the JSON 413 rather than a reset connection."""
    status, _, answer = post(server, b"RIFF" + bytes(4 * 2 ** 20))
    assert status == 413 and "too large" in answer["error"]
