"""The HTTP API's routes: POST /classify, GET /labels, GET /health (+ OpenAPI docs at /docs, a help page at /).

Audio comes as the raw request body (any format the app reads: WAV, FLAC, OGG, MP3...) or as
the first file of a multipart form; `service.classify` turns it into an answer. Every answer that
is not a ranking is JSON `{"error": "..."}` (`service.errors`), never a traceback or text/plain.
Clips that arrive together share a model call in the micro-batcher's worker (`service.batcher`).
"""

from __future__ import annotations

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
from intentdesk.service.batcher import MicroBatcher, ServiceClosed
from intentdesk.service.classify import classify_request, score_batch
from intentdesk.service.errors import BadRequest, error_response, install_error_handlers, refusal
from intentdesk.service.help_page import help_page
from intentdesk.service.options import ServiceOptions, key_bytes

if TYPE_CHECKING:
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.inference.words_part import ClipScore

# Load balancers probe /health and browsers open the help page without the key.
OPEN_PATHS = {("GET", "/health"), ("GET", "/"), ("GET", "/classify")}
AUDIO_BODY = {"requestBody": {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}}}


class ServiceStats:
    """Counters the GUI and /health show; updated on the event loop only."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0


class ConcurrencyLimit:
    """ASGI middleware: at most `limit` requests in progress, and no new clip while the ones in progress would
    keep it waiting more than `max_queue_s` (each takes `seconds_per_clip()`, the batcher's recent model time);
    the rest get a JSON 503 at once, with Retry-After.

    Each request in progress may hold a body of up to --max-body-mb, so the first bounds memory; the second
    bounds how long an answered request waits (a flood of 1,000 connections had answers after 69 s, p50)."""

    def __init__(self, app, limit: int, seconds_per_clip: Callable[[], float] = lambda: 0.0,
                 max_queue_s: float = math.inf) -> None:
        self.app = app
        self.limit = limit
        self.active = 0
        self.seconds_per_clip = seconds_per_clip
        self.max_queue_s = max_queue_s

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        wait = self.active * self.seconds_per_clip() if scope.get("path") == "/classify" else 0.0
        if self.active >= self.limit or wait > self.max_queue_s:
            why = f"{self.limit} requests in progress" if self.active >= self.limit else \
                f"about {wait:.0f} s of clips queued ahead"
            response = error_response(503, f"the service is busy ({why}); retry shortly", close=True,
                                      headers={"retry-after": str(max(1, math.ceil(wait / 2)))})
            return await response(scope, receive, send)
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


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


def batched_scores(batcher: MicroBatcher):
    """`score(wave)` through the batcher: 503 while it is not running, 500 naming a model failure."""

    async def score(wave: np.ndarray) -> ClipScore:
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
    score = batched_scores(batcher)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        batcher.start()
        await batcher.warm_up(np.zeros(classifier.rate, np.float32))  # 1 s of silence: the first, slow call
        yield
        batcher.stop()

    app = FastAPI(title="IntentDesk", summary="Ranked speech intents for short audio clips", lifespan=lifespan)
    app.state.stats, app.state.batcher, app.state.options = stats, batcher, options
    install_error_handlers(app)
    if options.api_key:
        require_key(app, options.api_key)
    app.add_middleware(ConcurrencyLimit, limit=options.max_concurrent,
                       seconds_per_clip=lambda: batcher.seconds_per_clip, max_queue_s=options.max_queue_s)

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

    @app.get("/labels", summary="The intents this model knows")
    async def labels():
        return {"labels": classifier.labels}

    @app.get("/health", summary="Liveness and counters")
    async def health():
        return {"status": "ok", "model": classifier.model_dir.name, "precision": classifier.precision,
                "words": classifier.has_words, "words_problem": classifier.words_problem,
                "requests": stats.requests, "errors": stats.errors, "batches": batcher.batches,
                "clips": batcher.clips}

    return app
