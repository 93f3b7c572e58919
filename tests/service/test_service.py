"""The HTTP service: answers, 4xx errors, API key, micro-batching; the Ray Serve export."""

import asyncio
import py_compile
import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.batcher import MicroBatcher
from intentdesk.service.options import ServiceOptions
from intentdesk.service.runner import BackgroundService, check_exposure, free_port
from tests.helpers import wav_bytes


@pytest.fixture(scope="module")
def classifier(saved_classifier):
    return Classifier(saved_classifier)


@pytest.fixture
def client(classifier):
    app = create_app(classifier, ServiceOptions(max_batch=8, max_wait_ms=30, max_body_bytes=400_000, max_seconds=5.0))
    with TestClient(app) as test_client:
        yield test_client


def test_classify_raw_body_matches_the_classifier(client, classifier):
    body = wav_bytes(1.0, 300)
    reply = client.post("/classify", content=body, headers={"content-type": "audio/wav"})
    assert reply.status_code == 200
    data = reply.json()
    expected = classifier.answers.rank(classifier.sound.scores([classifier.clips.read(body)[0]])[0])
    assert [r["label"] for r in data["ranking"]] == [p.label for p in expected]
    assert data["ranking"][0]["score"] == pytest.approx(expected[0].score, abs=1e-5)
    assert data["latency_ms"] > 0


def test_multipart_upload_and_top_k(client):
    files = {"file": ("clip.wav", wav_bytes(0.8, 500), "audio/wav")}
    reply = client.post("/classify?top_k=2", files=files)
    assert reply.status_code == 200
    assert len(reply.json()["ranking"]) == 2


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"", 400, "empty body"),
    (b"this is not audio at all", 400, "request body"),
    (b"\0" * 500_000, 413, "too large"),
    (None, 413, "too long"),
])
def test_bad_input_gets_a_4xx_json_error(client, body, status, words):
    body = wav_bytes(6.0) if body is None else body  # 6 s > the 5 s limit, under the size limit
    reply = client.post("/classify", content=body)
    assert reply.status_code == status
    assert words in reply.json()["error"] and "BytesIO" not in reply.json()["error"]


def test_bad_top_k_and_form_without_file(client):
    assert client.post("/classify?top_k=0", content=wav_bytes()).status_code == 422
    reply = client.post("/classify", data={"note": "hi"}, files={})
    assert reply.status_code == 400


def test_labels_health_and_docs(client, classifier):
    assert client.get("/labels").json() == {"labels": classifier.labels}
    client.post("/classify", content=b"junk")
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["requests"] == 1 and health["errors"] == 1
    assert "/classify" in client.get("/openapi.json").json()["paths"]


def test_the_api_docs_need_nothing_from_the_internet(classifier):
    """/docs was FastAPI's Swagger UI, scripts from a CDN: blank on a computer offline. It is plain HTML now,
    open without the key (as the help page is), and it describes every route of the schema."""
    with TestClient(create_app(classifier, ServiceOptions(api_key="s3cret"))) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text and "http" not in page.text.replace('href="/openapi.json"', "")
        for route in ("POST /classify", "GET /labels", "GET /health"):
            assert f"<code>{route}</code>" in page.text
        assert "<code>top_k</code> (query; a whole number, at least 1, optional): how many intents" in page.text
        assert "multipart/form-data" in page.text and "raw body" in page.text
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/labels").status_code == 401 and client.get("/redoc").status_code == 401


def test_api_key_is_required_when_set(classifier):
    app = create_app(classifier, ServiceOptions(api_key="s3cret"))
    with TestClient(app) as client:
        assert client.post("/classify", content=wav_bytes()).status_code == 401
        assert client.post("/classify", content=wav_bytes(), headers={"X-API-Key": "nope"}).status_code == 401
        assert client.post("/classify", content=wav_bytes(), headers={"X-API-Key": "s3cret"}).status_code == 200
        assert client.get("/health").status_code == 200
        assert client.head("/health").status_code == 200, "load balancers that probe with HEAD need no key either"


def test_only_loopback_is_served_without_a_key():
    check_exposure("127.0.0.1", None)
    check_exposure("::1", None)
    check_exposure("0.0.0.0", "key")
    with pytest.raises(IntentDeskError, match="api-key"):
        check_exposure("0.0.0.0", None)


def test_concurrent_requests_are_each_answered(client):
    """Twelve clients at once: every one answered, every clip scored once (how they are batched
    depends on when they arrive; the batching itself is the next test's)."""
    bodies = [wav_bytes(1.0, 200 + 50 * i) for i in range(12)]
    replies = [None] * len(bodies)

    def send(i):
        replies[i] = client.post("/classify", content=bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code == 200 for r in replies)
    health = client.get("/health").json()
    assert health["clips"] == 12 and 1 <= health["batches"] <= 12


def test_clips_arriving_while_the_model_is_busy_share_the_next_calls():
    """While one batch is in the model, the clips that arrive queue up, and the next model calls take
    them `max_batch` at a time without waiting (max_wait_ms=0). The first call is held until they have
    all arrived, so what is checked never depends on how fast the machine is."""
    in_model, release, sizes = threading.Event(), threading.Event(), []

    def score(waves):
        sizes.append(len(waves))
        in_model.set()
        release.wait(60)
        return np.zeros((len(waves), 2))

    batcher = MicroBatcher(score, lambda lengths, size: [list(range(len(lengths)))], max_batch=4, max_wait_ms=0)
    batcher.start()

    async def run():
        first = asyncio.ensure_future(batcher.submit(np.zeros(10, np.float32)))
        assert await asyncio.to_thread(in_model.wait, 60)
        rest = [asyncio.ensure_future(batcher.submit(np.zeros(10, np.float32))) for _ in range(8)]
        await asyncio.sleep(0)  # each task has run up to its await: all eight clips are queued
        release.set()
        return await asyncio.gather(first, *rest)

    try:
        rows = asyncio.run(run())
    finally:
        release.set()
        batcher.stop()
    assert len(rows) == 9 and sizes == [1, 4, 4]
    assert (batcher.batches, batcher.clips) == (3, 9)


def test_a_failing_clip_does_not_fail_its_batch_mates():
    def score(waves):
        if any(w[0] == 99 for w in waves):
            raise RuntimeError("boom")
        return np.stack([np.array([w[0], 1 - w[0]]) for w in waves])

    def group(lengths, size):
        return [list(range(len(lengths)))]

    batcher = MicroBatcher(score, group, max_batch=8, max_wait_ms=50)
    batcher.start()

    async def run():
        waves = [np.full(10, v, np.float32) for v in (0.25, 99, 0.75)]
        return await asyncio.gather(*(batcher.submit(w) for w in waves), return_exceptions=True)

    try:
        good1, bad, good2 = asyncio.run(run())
    finally:
        batcher.stop()
    assert isinstance(bad, RuntimeError)
    assert good1[0] == pytest.approx(0.25) and good2[0] == pytest.approx(0.75)


def test_background_service_answers_over_http(classifier):
    import httpx

    service = BackgroundService(create_app(classifier), port=free_port())
    service.start()
    try:
        reply = httpx.post(service.url + "/classify", content=wav_bytes(), timeout=30)
        assert reply.status_code == 200 and service.requests == 1
    finally:
        service.stop()


def test_cli_refuses_public_host_without_key(saved_classifier):
    from tests.helpers import run_cli

    proc = run_cli("serve", saved_classifier, "--host", "0.0.0.0", check=False, separate_process=True)  # the console
    assert proc.returncode == 2 and "--api-key" in proc.stderr


def test_service_answers_like_the_cli_for_a_clip_longer_than_whisper_window(tiny_whisper, tmp_path):
    """Same ranking and the same note as `intentdesk classify`: a Whisper model trained on 1 s clips
    scores a 3 s upload on its first second, and the answer says so."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from intentdesk.core.models import backbone

    model = AutoModelForAudioClassification.from_pretrained(tiny_whisper, num_labels=3)
    extractor = AutoFeatureExtractor.from_pretrained(tiny_whisper)
    backbone.fit_whisper_window(model, extractor, 1.0)
    model.save_pretrained(tmp_path / "whisper")
    extractor.save_pretrained(tmp_path / "whisper")
    (tmp_path / "long.wav").write_bytes(wav_bytes(3.0, 300))
    whisper = Classifier(tmp_path / "whisper", precision="fp32")
    expected = whisper.classify_files([tmp_path / "long.wav"])[0]
    with TestClient(create_app(whisper, ServiceOptions(max_seconds=5.0))) as client:
        answer = client.post("/classify", content=wav_bytes(3.0, 300)).json()
    assert answer["note"] == expected.note == "only the first 1.0 s of 3.0 s were used"
    assert [p["label"] for p in answer["ranking"]] == [p.label for p in expected.ranking]
    assert [p["score"] for p in answer["ranking"]] == pytest.approx([p.score for p in expected.ranking], abs=1e-6)


def test_export_serve_writes_a_ray_app(saved_classifier, tmp_path, classifier):
    from fastapi import FastAPI, Query, Request

    from intentdesk.service.errors import install_error_handlers
    from intentdesk.service.ray_export import IntentDeployment, export_ray_app

    out = export_ray_app(saved_classifier, tmp_path / "ray_app", max_batch=4, max_seconds=5.0)
    assert (out / "model" / "config.json").is_file() and (out / "serve_config.yaml").is_file()
    py_compile.compile(str(out / "app.py"), doraise=True)
    app_text = (out / "app.py").read_text()
    assert "max_batch_size=4" in app_text and "max_seconds=5.0" in app_text
    deployment = IntentDeployment(str(out / "model"), max_seconds=5.0)
    waves = [classifier.clips.read(wav_bytes(1.0, f))[0] for f in (300, 900)]
    rows = deployment.score_batch(waves)
    same_format = Classifier(saved_classifier, precision=deployment.classifier.precision)  # auto may differ under load
    assert np.allclose(rows[1], same_format.sound.scores([waves[1]])[0], atol=1e-5)

    api = FastAPI()  # what app.py's @serve.ingress class does, without Ray
    install_error_handlers(api)

    async def score(wave):
        return deployment.score_batch([wave])[0]

    @api.post("/classify")
    async def classify(request: Request, top_k: int | None = Query(None, ge=1)):
        return await deployment.classify(request, top_k, score)

    with TestClient(api) as client:
        answer = client.post("/classify?top_k=1", content=wav_bytes(1.0, 900)).json()
        assert answer["ranking"][0]["label"] == classifier.answers.rank(rows[1])[0].label
        assert client.post("/classify", content=wav_bytes(6.0)).status_code == 413  # over max_seconds
        assert "error" in client.post("/classify", content=b"junk").json()
        assert "error" in client.post("/classify?top_k=-1", content=wav_bytes()).json()
    with pytest.raises(IntentDeskError, match="not empty"):
        export_ray_app(saved_classifier, out)


def test_seconds_per_clip_follow_the_model_calls_and_the_warm_up_seeds_them():
    """Timed by an injected clock (each clip takes 0.5 s of it, then 1.5 s), whatever the machine does."""
    now, cost = [0.0], [0.5]

    def score(waves):
        now[0] += cost[0] * len(waves)
        return np.zeros((len(waves), 2))

    batcher = MicroBatcher(score, lambda lengths, size: [list(range(len(lengths)))], max_batch=4, max_wait_ms=0,
                           clock=lambda: now[0])
    batcher.start()

    async def run():
        assert batcher.seconds_per_clip == 0.0  # nothing timed yet
        cost[0] = 9.0  # the first call is slow: not what the estimate starts from
        first = asyncio.ensure_future(batcher.warm_up(np.zeros(10, np.float32)))
        while now[0] == 0.0:  # the first warm-up call has been made
            await asyncio.sleep(0)
        cost[0] = 0.5
        await first
        seeded = batcher.seconds_per_clip
        cost[0] = 1.5
        await batcher.submit(np.zeros(10, np.float32))
        return seeded, batcher.seconds_per_clip

    try:
        seeded, after = asyncio.run(run())
    finally:
        batcher.stop()
    assert seeded == pytest.approx(0.5)
    assert after == pytest.approx(0.8 * 0.5 + 0.2 * 1.5)  # an average that follows the recent calls
