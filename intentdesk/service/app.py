"""The HTTP API: POST /classify, GET /labels, GET /health (+ OpenAPI docs at /docs).

Audio comes as the raw request body (any format the app reads: WAV, FLAC, OGG, MP3...) or as
the first file of a multipart form. Every problem with a request is a 4xx JSON answer
`{"error": "..."}` naming what is wrong; decoding runs in a thread pool and the model in the
micro-batcher's worker, so the event loop only moves bytes.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from intentdesk.core import audio
from intentdesk.core.errors import AudioError, AudioTooLong
from intentdesk.service.batcher import MicroBatcher

if TYPE_CHECKING:
    from intentdesk.core.inference import Classifier

OPEN_PATHS = {"/health"}  # load balancers may probe without the key


@dataclass
class ServiceOptions:
    max_batch: int = 16
    max_wait_ms: float = 5.0
    api_key: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 30.0


class ServiceStats:
    """Counters the GUI and /health show; updated on the event loop only."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes (announced or actually sent)."""
    declared = request.headers.get("content-length")
    too_large = f"request body too large (the limit is {limit // (1024 * 1024)} MB); send a shorter clip"
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, too_large)
    return bytes(body)


async def audio_bytes(request: Request, limit: int) -> tuple[bytes, str]:
    """(bytes, name) of the clip in a raw body or in the first file of a multipart form."""
    body = await read_body(request, limit)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        from starlette.datastructures import UploadFile

        request._body = body  # Starlette parses the form from the body already read (and size-checked)
        try:
            form = await request.form()
        except Exception as error:  # noqa: BLE001 - any parse failure is the client's malformed form
            raise BadRequest(400, f"malformed multipart form: {error}") from error
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        if not files:
            raise BadRequest(400, "the form has no file; attach the audio as a file field")
        return await files[0].read(), files[0].filename or "uploaded file"
    return body, "request body"


def create_app(classifier: Classifier, options: ServiceOptions | None = None) -> FastAPI:
    options = options or ServiceOptions()
    batcher = MicroBatcher(classifier.scores, classifier.builder.inference_batches,
                           options.max_batch, options.max_wait_ms)
    limits = audio.AudioLimits(max_seconds=options.max_seconds)  # for every caller, GUI included
    stats = ServiceStats()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        batcher.start()
        yield
        batcher.stop()

    app = FastAPI(title="IntentDesk", summary="Ranked speech intents for short audio clips", lifespan=lifespan)
    app.state.stats = stats
    app.state.batcher = batcher

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if options.api_key and request.url.path not in OPEN_PATHS:
            given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), options.api_key.encode()):
                return error_response(401, "missing or wrong API key: send it in the X-API-Key header")
        return await call_next(request)

    @app.post("/classify", summary="Rank the intents of one audio clip",
              openapi_extra={"requestBody": {"content": {"audio/wav": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}})
    async def classify(request: Request, top_k: int | None = Query(None, ge=1, description="how many intents")):
        started = time.perf_counter()
        stats.requests += 1
        try:
            data, name = await audio_bytes(request, options.max_body_bytes)
            if not data:
                raise BadRequest(400, "empty body: send an audio file (WAV, FLAC, OGG or MP3)")
            try:
                wave, _ = await run_in_threadpool(
                    functools.partial(audio.load_audio, data, classifier.rate, name=name, limits=limits))
            except AudioTooLong as error:
                raise BadRequest(413, str(error)) from error
            except AudioError as error:
                raise BadRequest(400, str(error)) from error
        except BadRequest as error:
            stats.errors += 1
            return error_response(error.status, error.message)
        try:
            probabilities = await batcher.submit(wave)
        except Exception as error:  # noqa: BLE001 - a model failure on this clip only
            stats.errors += 1
            return error_response(500, f"the model failed on this clip: {str(error).splitlines()[0][:200]}")
        ranking = classifier.rank(probabilities, top_k)
        return {"ranking": [p.as_dict() for p in ranking],
                "latency_ms": round((time.perf_counter() - started) * 1000, 2)}

    @app.get("/labels", summary="The intents this model knows")
    async def labels():
        return {"labels": classifier.labels}

    @app.get("/health", summary="Liveness and counters")
    async def health():
        return {"status": "ok", "model": classifier.model_dir.name, "precision": classifier.precision,
                "requests": stats.requests, "errors": stats.errors, "batches": batcher.batches,
                "clips": batcher.clips}

    return app
