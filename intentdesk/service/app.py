"""The HTTP API's routes: POST /classify, GET /labels, GET /health (+ OpenAPI docs at /docs, a help page at /).

Audio comes as the raw request body (any format the app reads: WAV, FLAC, OGG, MP3...) or as
the first file of a multipart form; `service.classify` turns it into an answer. Every answer that
is not a ranking is JSON `{"error": "..."}` (`service.errors`), never a traceback or text/plain.
Clips that arrive together share a model call in the micro-batcher's worker (`service.batcher`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from intentdesk.core.errors import first_line
from intentdesk.service.api_docs import api_docs_page
from intentdesk.service.batcher import MicroBatcher, ServiceClosed
from intentdesk.service.classify import classify_request, score_batch
from intentdesk.service.errors import BadRequest, error_response, install_error_handlers, refusal
from intentdesk.service.help_page import help_page
from intentdesk.service.options import ServiceOptions, key_bytes

if TYPE_CHECKING:
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.inference.words_part import ClipScore

# Load balancers probe /health and browsers open the help page without the key.
# What needs no key: liveness (with the model's name and counters), and the pages that say how to use the service.
OPEN_PATHS = {("GET", "/health"), ("HEAD", "/health"), ("GET", "/"), ("GET", "/classify"), ("GET", "/docs"),
              ("GET", "/openapi.json")}
AUDIO_BODY = {"requestBody": {
    "description": "one audio clip (WAV, FLAC, OGG or MP3) as the raw body, or as the file of a multipart form",
    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}}}


class ServiceStats:
    """Counters the GUI and /health show; updated on the event loop only."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0


class QueueWait:
    """How long a new clip would wait for the model: the clips handed to it and not answered yet
    (`waiting()`) times its recent time per clip (`seconds_per_clip()`), against `max_queue_s`."""

    def __init__(self, waiting: Callable[[], int] = lambda: 0, seconds_per_clip: Callable[[], float] = lambda: 0.0,
                 max_queue_s: float = math.inf) -> None:
        self.waiting, self.seconds_per_clip, self.max_queue_s = waiting, seconds_per_clip, max_queue_s

    def seconds(self) -> float:
        return self.waiting() * self.seconds_per_clip()

    def too_long(self) -> bool:
        return self.seconds() > self.max_queue_s

    def busy(self, why: str | None = None) -> BadRequest:
        """The 503 that says so, with Retry-After."""
        wait = self.seconds()
        return BadRequest(503, f"the service is busy ({why or f'about {wait:.0f} s of clips queued ahead'}); retry "
                          "shortly", close=True, headers={"retry-after": str(max(1, math.ceil(wait / 2)))})


class ConcurrencyLimit:
    """ASGI middleware: at most `limit` requests in progress, and no new clip while those handed to the model
    would keep it waiting more than `queue.max_queue_s`; the rest get a JSON 503 at once, with Retry-After.

    Each request in progress may hold a body of up to --max-body-mb, so the first bounds memory; the second
    bounds how long an answered request waits (a flood of 1,000 connections had answers after 69 s, p50). The
    wait counts only clips that have arrived (30 uploads stalled after their first bytes kept every client out
    when requests in progress counted), and it is checked again when a clip arrives (`batched_scores`).

    An answer sent before its request's body has all arrived (413, 401, 503…) waits for the rest first, read and
    thrown away (`drain`): closing with the body unread reset the connection, and most clients then lost the
    answer and its Retry-After."""

    def __init__(self, app, limit: int, queue: QueueWait | None = None) -> None:
        self.app = app
        self.limit = limit
        self.active = 0
        self.queue = queue or QueueWait()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = BodyTracker(receive, send)
        if self.active >= self.limit or (scope.get("path") == "/classify" and self.queue.too_long()):
            error = self.queue.busy(f"{self.limit} requests in progress" if self.active >= self.limit else None)
            return await refusal(error)(scope, body.receive, body.send)
        self.active += 1
        try:
            await self.app(scope, body.receive, body.send)
        finally:
            self.active -= 1


DRAIN_BYTES = 64 * 2 ** 20  # read at most this much of an unread body before answering (then it is reset)
DRAIN_S = 2.0  # and wait at most this long for it: a client that stalls is answered all the same


class BodyTracker:
    """A request's receive and send, knowing whether its body has all been read; the answer's first message
    waits for the rest of it (read and thrown away, at most DRAIN_BYTES and DRAIN_S)."""

    def __init__(self, receive, send) -> None:
        self._receive, self._send = receive, send
        self.complete = False

    async def receive(self):
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
        return message

    async def send(self, message) -> None:
        if message["type"] == "http.response.start" and not self.complete:
            await self.drain()
        await self._send(message)

    async def drain(self) -> None:
        loop = asyncio.get_running_loop()
        deadline, read = loop.time() + DRAIN_S, 0
        while not self.complete and read <= DRAIN_BYTES:
            try:
                message = await asyncio.wait_for(self.receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:  # (TimeoutError itself from Python 3.11 on)
                return
            read += len(message.get("body", b""))


def require_key(app: FastAPI, api_key: str) -> None:
    """Every path but `OPEN_PATHS` needs the key (X-API-Key, or Authorization: Bearer), compared in constant time."""
    expected = key_bytes(api_key)

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if (request.method, request.url.path) not in OPEN_PATHS:
            # Starlette decodes header bytes as latin-1: encoding back gives the bytes the client sent.
            given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode("latin-1"), expected):
                return error_response(401, "missing or wrong API key: send it in the X-API-Key header")
        return await call_next(request)


def batched_scores(batcher: MicroBatcher, queue: QueueWait):
    """`score(wave)` through the batcher: 503 while it is not running or when the clips ahead would keep this
    one waiting too long (checked again now that it has arrived: all of a flood may have been let in at once),
    500 naming a model failure."""

    async def score(wave: np.ndarray) -> ClipScore:
        if queue.too_long():
            raise queue.busy()
        try:
            return await batcher.submit(wave)
        except ServiceClosed as error:
            raise BadRequest(503, str(error)) from error
        except Exception as error:  # noqa: BLE001 - a model failure on this clip only
            raise BadRequest(500, f"the model failed on this clip: {first_line(error)}") from error

    return score


def create_app(classifier: Classifier, options: ServiceOptions | None = None) -> FastAPI:
    options = options or ServiceOptions()
    options.validate()
    batcher = MicroBatcher(functools.partial(score_batch, classifier), classifier.builder.inference_batches,
                           options.max_batch, options.max_wait_ms)
    stats = ServiceStats()
    queue = QueueWait(lambda: batcher.waiting, lambda: batcher.seconds_per_clip, options.max_queue_s)
    score = batched_scores(batcher, queue)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        batcher.start()
        await batcher.warm_up(np.zeros(classifier.rate, np.float32))  # 1 s of silence: the first, slow call
        yield
        batcher.stop()

    # FastAPI's /docs loads Swagger UI from a CDN (blank offline): this service renders its own (`api_docs`).
    app = FastAPI(title="IntentDesk", summary="Ranked speech intents for short audio clips", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.stats, app.state.batcher, app.state.options = stats, batcher, options
    install_error_handlers(app)
    if options.api_key:
        require_key(app, options.api_key)
    app.add_middleware(ConcurrencyLimit, limit=options.max_concurrent, queue=queue)

    @app.post("/classify", summary="Rank the intents of one audio clip", openapi_extra=AUDIO_BODY)
    async def classify(request: Request, top_k: int | None = Query(None, ge=1, description="how many intents")):
        stats.requests += 1
        try:
            return await classify_request(request, classifier, score, top_k, options)
        except BadRequest as error:
            stats.errors += 1
            return refusal(error)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    @app.get("/classify", include_in_schema=False, response_class=HTMLResponse)
    async def index(request: Request):
        return HTMLResponse(help_page(request, classifier, options))

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs():
        return HTMLResponse(api_docs_page(app.openapi()))

    @app.get("/labels", summary="The intents this model knows")
    async def labels():
        return {"labels": classifier.labels}

    @app.get("/health", summary="Liveness and counters")
    async def health():
        return {"status": "ok", "model": classifier.model_dir.name, "precision": classifier.precision,
                "words": classifier.has_words, "words_problem": classifier.words_problem,
                "requests": stats.requests, "errors": stats.errors, "batches": batcher.batches,
                "clips": batcher.clips}

    app.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)  # load balancers' probe (was 405)
    return app
