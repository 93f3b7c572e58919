"""The HTTP service against hostile or careless clients (reliability issue #12, service part).

The tests use a stand-in classifier (fixed scores, no model), since what is under test is the
HTTP layer: limits and error shapes. Deadlines are in test_protocol.py, the CLI's refusals in
test_runner.py, export-serve's in test_ray_export.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from intentdesk.core.audio.io import AudioLimits
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.clips import ClipReader
from intentdesk.core.inference.results import Answers
from intentdesk.core.inference.sound import SoundModel
from intentdesk.service.app import create_app
from intentdesk.service.batcher import MicroBatcher, ServiceClosed
from intentdesk.service.options import ServiceOptions
from tests.helpers import frames_decoded, tone

RATE = 16000


class FakeClassifier(Classifier):
    """A Classifier with fixed (or NaN) scores and no model: every step but the forward pass is the real one.
    `window`: the fixed input window of a spectrogram model (Whisper), in seconds."""

    labels = ["balance", "freeze", "pay_bill"]
    model_dir = Path("fake-model")
    precision = "fp32"

    def __init__(self, row=(0.2, 0.7, 0.1), window: float | None = None) -> None:
        self.builder = SimpleNamespace(rate=RATE, fixed_window=window,
                                       inference_batches=lambda lengths, size: [list(range(len(lengths)))])
        self.sound = FakeSound(np.asarray(row, np.float32), self.builder)
        self.seen = self.sound.seen
        self.clips = ClipReader(RATE, window, AudioLimits(max_seconds=None))
        self.answers = Answers(self.labels)


class FakeSound(SoundModel):
    """Fixed scores in place of a forward pass; the real batching around it."""

    def __init__(self, row: np.ndarray, builder) -> None:
        self.row, self.builder = row, builder
        self.config = SimpleNamespace(num_labels=len(row))
        self.seen: list[int] = []  # the length of every wave scored

    def scores(self, waves):
        self.seen += [len(wave) for wave in waves]
        return np.tile(self.row, (len(waves), 1))


def wav(seconds=1.0, rate=RATE, samples=None, subtype=None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(440, seconds, rate) if samples is None else samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def make_client(classifier=None, **options) -> TestClient:
    app = create_app(classifier or FakeClassifier(), ServiceOptions(**options))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client():
    with make_client(max_seconds=5.0, max_body_bytes=400_000) as test_client:
        yield test_client


def assert_json_error(reply, status: int, *words: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    message = reply.json()["error"]
    assert set(reply.json()) == {"error"}
    for word in words:
        assert word in message, message


# ------------------------------------------------------------------ decompression bomb (#6)
@pytest.fixture(scope="module")
def hour_of_silence_flac() -> bytes:
    """One hour of 16 kHz silence: 180 KB of FLAC, 230 MB once decoded to float32."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=RATE, channels=1, format="FLAC", subtype="PCM_16") as out:
        block = np.zeros(RATE * 60, np.int16)
        for _ in range(60):
            out.write(block)
    return buffer.getvalue()


@pytest.mark.parametrize("multipart", [False, True])
def test_hour_long_flac_is_refused_413_before_decoding(hour_of_silence_flac, multipart, monkeypatch):
    assert len(hour_of_silence_flac) < 300_000
    decoded = frames_decoded(monkeypatch)
    with make_client(max_seconds=30.0) as client:
        tracemalloc.start()
        try:
            if multipart:
                reply = client.post("/classify", files={"file": ("bomb.flac", hour_of_silence_flac, "audio/flac")})
            else:
                reply = client.post("/classify", content=hour_of_silence_flac)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert_json_error(reply, 413, "too long", "30")
    assert decoded == [], "refused from the header, without decoding a sample"
    assert peak < 50 * 2**20, f"the request allocated {peak / 2**20:.0f} MB"


def test_a_clip_longer_than_the_models_window_is_cut_and_says_so():
    """The service fits a clip to the model's window like the CLI, and says so in the answer (it used to
    score a Whisper model's first window silently)."""
    fake = FakeClassifier(window=1.0)
    with make_client(fake, max_seconds=5.0) as client:
        long_reply = client.post("/classify", content=wav(3.0))
        short_reply = client.post("/classify", content=wav(0.5))
    assert long_reply.status_code == 200 and long_reply.json()["note"] == "only the first 1.0 s of 3.0 s were used"
    assert short_reply.status_code == 200 and "note" not in short_reply.json()
    assert fake.seen[2:] == [RATE, RATE // 2]  # after the service's two warm-up calls at start


def test_huge_sample_values_are_refused_400(client):
    """Finite but huge float samples made the real model answer NaN (and the service a text 500)."""
    samples = np.full(RATE, 1e30, np.float32)
    samples[::2] = -1e30
    reply = client.post("/classify", content=wav(samples=samples, subtype="FLOAT"))
    assert_json_error(reply, 400, "request body")


# ------------------------------------------------------------------ never NaN, never text/plain (#13)
def test_non_finite_scores_are_a_json_500_without_nan():
    with make_client(FakeClassifier(row=(np.nan, 0.5, 0.5))) as client:
        reply = client.post("/classify", content=wav())
    assert_json_error(reply, 500, "not numbers")
    assert "NaN" not in reply.text


def test_an_unexpected_crash_is_a_json_500():
    fake = FakeClassifier()
    fake.answers.rank = lambda probabilities, top_k=None: 1 / 0
    with make_client(fake) as client:
        reply = client.post("/classify", content=wav())
    assert_json_error(reply, 500, "ZeroDivisionError")


def test_a_model_failure_is_a_json_500_naming_it():
    def fail(waves):
        raise RuntimeError("out of memory in conv")

    fake = FakeClassifier()
    fake.sound.scores = fail
    with make_client(fake) as client:
        reply = client.post("/classify", content=wav())
    assert_json_error(reply, 500, "the model failed", "out of memory")


# ------------------------------------------------------------------ every error is {"error": ...} (#18)
@pytest.mark.parametrize(("method", "path", "status", "words"), [
    ("GET", "/nope", 404, ["/nope", "POST /classify"]),
    ("PUT", "/classify", 405, ["PUT", "POST"]),
    ("DELETE", "/labels", 405, ["DELETE"]),
    ("POST", "/classify?top_k=0", 422, ["top_k"]),
    ("POST", "/classify?top_k=-3", 422, ["top_k", "-3"]),
    ("POST", "/classify?top_k=abc", 422, ["top_k", "integer"]),
])
def test_framework_errors_are_json_error_not_detail(client, method, path, status, words):
    reply = client.request(method, path, content=wav())
    assert_json_error(reply, status, *words)


def test_huge_top_k_gives_every_label(client):
    reply = client.post("/classify?top_k=" + "9" * 40, content=wav())
    assert reply.status_code == 200
    assert [r["label"] for r in reply.json()["ranking"]] == ["freeze", "balance", "pay_bill"]


@pytest.mark.parametrize(("kwargs", "status", "words"), [
    ({"content": b""}, 400, ["empty body"]),
    ({"content": b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
      "headers": {"content-type": "multipart/form-data; boundary=b"}}, 400, ["no file"]),
    ({"data": {"note": "hi"}}, 400, ["--data-binary"]),  # curl -d: urlencoded, not a file
    ({"files": {"file": ("clip.wav", b"", "audio/wav")}}, 400, ["clip.wav", "empty"]),
    ({"content": b"--x\r\nno form here", "headers": {"content-type": "multipart/form-data"}}, 400, ["multipart"]),
    ({"content": b'{"audio": "base64..."}', "headers": {"content-type": "application/json"}}, 400,
     ["request body", "audio file"]),
    ({"content": iter([b"\0" * 100_000] * 5)}, 413, ["too large"]),  # chunked, no Content-Length
])
def test_malformed_uploads_get_a_4xx_json_error(client, kwargs, status, words):
    assert_json_error(client.post("/classify", **kwargs), status, *words)


# ------------------------------------------------------------------ API key (#18)
def test_a_non_ascii_api_key_matches_its_utf8_bytes():
    with make_client(api_key="clé-secrète") as client:
        ok = client.post("/classify", content=wav(), headers={"X-API-Key": "clé-secrète".encode()})
        assert ok.status_code == 200, ok.text
        assert_json_error(client.post("/classify", content=wav(), headers={"X-API-Key": b"\xff\xfe"}), 401, "API key")
        assert_json_error(client.post("/classify", content=wav()), 401, "X-API-Key")


@pytest.mark.parametrize("key", ["", " padded", "line\nbreak"])
def test_an_api_key_no_client_could_send_is_refused(key):
    with pytest.raises(IntentDeskError, match="api-key"):
        create_app(FakeClassifier(), ServiceOptions(api_key=key))


# ------------------------------------------------------------------ the URL in a browser (#16)
def test_get_root_and_classify_explain_the_service(client):
    for path in ("/", "/classify"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "curl --data-binary @clip.wav http://testserver/classify" in page.text
        assert "X-API-Key" not in page.text


def test_help_page_is_open_and_names_the_key_when_one_is_set():
    with make_client(api_key="k3y") as client:
        page = client.get("/")
        assert page.status_code == 200 and "X-API-Key" in page.text and "k3y" not in page.text
        assert client.get("/labels").status_code == 401


# ------------------------------------------------------------------ shutting down / not started
def test_a_request_while_the_worker_is_not_running_fails_fast():
    batcher = MicroBatcher(lambda waves: np.zeros((len(waves), 2)), lambda lengths, size: [list(range(len(lengths)))])

    async def submit():
        return await asyncio.wait_for(batcher.submit(np.zeros(10, np.float32)), 60)  # a hang fails, not blocks

    with pytest.raises(ServiceClosed):
        asyncio.run(submit())  # never started
    batcher.start()
    assert asyncio.run(submit()).shape == (2,)
    batcher.stop()
    with pytest.raises(ServiceClosed):
        asyncio.run(submit())


def test_the_app_answers_503_json_outside_its_lifespan():
    client = make_client()  # not entered: the lifespan (batcher start) never ran
    assert_json_error(client.post("/classify", content=wav()), 503, "retry")


@contextlib.contextmanager
def one_request_held_in_the_model(**options):
    """A client whose first /classify after start is held inside its model call (so it is in progress for sure,
    however slow the machine; the service's own warm-up calls are not held): yields (client, first answer list);
    on leaving, the held request is released and answered."""
    entered, release, armed = threading.Event(), threading.Event(), threading.Event()
    fake = FakeClassifier()
    plain_scores = fake.sound.scores

    def held(waves):
        if armed.is_set():
            entered.set()
            release.wait()
        return plain_scores(waves)

    fake.sound.scores = held
    first: list = []
    with make_client(fake, **options) as client:
        armed.set()
        holder = threading.Thread(target=lambda: first.append(client.post("/classify", content=wav())))
        holder.start()
        try:
            assert entered.wait(120), "the first request never reached the model"
            yield client, first
        finally:
            release.set()
            holder.join()


def test_requests_beyond_max_concurrent_get_a_json_503():
    """While one request is in progress, one more arrives; once released, the held one is answered as usual."""
    with one_request_held_in_the_model(max_concurrent=1) as (client, first):
        busy = client.get("/health")
    with make_client() as client:
        after = client.get("/health")
    assert_json_error(busy, 503, "busy")
    assert busy.headers["retry-after"] == "1"
    assert first[0].status_code == 200 and after.status_code == 200


def test_a_clip_that_would_wait_too_long_gets_a_json_503_at_once(monkeypatch):
    """One request is held in the model; at 20 s a clip (as if the model had slowed down) the next one would
    wait longer than --max-queue-s, so it is told busy at once, with Retry-After; /health still answers."""
    with one_request_held_in_the_model(max_queue_s=2.0) as (client, first):
        monkeypatch.setattr(client.app.state.batcher, "seconds_per_clip", 20.0)
        busy = client.post("/classify", content=wav())
        health = client.get("/health")
    assert_json_error(busy, 503, "about 20 s of clips queued ahead")
    assert busy.headers["retry-after"] == "10" and health.status_code == 200
    assert first[0].status_code == 200


@pytest.mark.parametrize(("options", "words"), [
    ({"max_batch": 0}, "--max-batch"),
    ({"max_queue_s": 0}, "--max-queue-s"),
    ({"max_wait_ms": -1}, "--max-wait-ms"),
    ({"max_body_bytes": 0}, "--max-body-mb"),
    ({"max_seconds": 0}, "--max-seconds"),
    ({"max_seconds": float("nan")}, "--max-seconds"),
    ({"max_seconds": float("inf")}, "--max-seconds"),
    ({"keep_alive_s": 0}, "keep-alive"),
])
def test_bad_service_options_are_refused_with_their_name(options, words):
    with pytest.raises(IntentDeskError, match=words):
        ServiceOptions(**options).validate()
