"""The HTTP API: POST /classify, GET /labels, GET /health (+ OpenAPI docs at /docs, a help page at /).

Audio comes as the raw request body (any format the app reads: WAV, FLAC, OGG, MP3...) or as
the first file of a multipart form. Every answer that is not a ranking is JSON `{"error": "..."}`
naming what is wrong (4xx for the client's request, 500 for our own failures), never a
traceback or text/plain. Bodies are read against a size limit and a deadline, audio is decoded
in a thread pool with the clip-length limit checked before decoding (`audio.load_audio`), and
the model runs in the micro-batcher's worker, so the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import html
import json
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError, AudioTooLong, IntentDeskError
from intentdesk.service.batcher import MicroBatcher, ServiceClosed

if TYPE_CHECKING:
    from intentdesk.core.inference.classifier import Classifier

# Load balancers probe /health and browsers open the help page without the key.
OPEN_PATHS = {("GET", "/health"), ("GET", "/"), ("GET", "/classify")}
FORMATS = "WAV, FLAC, OGG or MP3"


@dataclass
class ServiceOptions:
    max_batch: int = 16
    max_wait_ms: float = 5.0
    api_key: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 30.0
    header_timeout_s: float = 10.0  # a request's head must arrive within this (runner's protocol)
    body_timeout_s: float = 60.0  # ... and its body within this once the head is in
    max_concurrent: int = 512  # requests in progress at once; more get 503 (bounds buffered bodies)

    def validate(self) -> None:
        """Refuse settings that would crash the service or disable a limit, naming the CLI option."""
        checks = [("--max-batch", self.max_batch, self.max_batch >= 1, "at least 1"),
                  ("--max-wait-ms", self.max_wait_ms, 0 <= self.max_wait_ms <= 60_000, "between 0 and 60000"),
                  ("--max-body-mb", self.max_body_bytes / 2**20, self.max_body_bytes > 0, "more than 0"),
                  ("--max-seconds", self.max_seconds, 0 < self.max_seconds < math.inf, "more than 0"),
                  ("header timeout", self.header_timeout_s, 0 < self.header_timeout_s < math.inf, "more than 0"),
                  ("body timeout", self.body_timeout_s, 0 < self.body_timeout_s < math.inf, "more than 0"),
                  ("max concurrent requests", self.max_concurrent, self.max_concurrent >= 1, "at least 1")]
        for name, value, ok, rule in checks:
            if not ok:  # NaN fails every comparison, so it lands here too
                raise IntentDeskError(f"{name} must be {rule} (got {value:g})")
        if self.api_key is not None:
            check_api_key(self.api_key)


def megabytes(value: float, option: str = "--max-body-mb") -> int:
    """A size given in MB as bytes, refusing what is not a positive finite number of bytes."""
    if not 0 < value < math.inf or int(value * 2**20) < 1:
        raise IntentDeskError(f"{option} must be more than 0 (got {value:g})")
    return int(value * 2**20)


def check_api_key(key: str) -> None:
    """A key a client could never send (HTTP strips spaces at the ends, forbids control characters)."""
    if not key or key != key.strip() or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise IntentDeskError("--api-key must be non-empty, without spaces at either end or control characters")


def key_bytes(key: str) -> bytes:
    """The key as UTF-8 bytes; surrogateescape keeps argv bytes that are not valid UTF-8 as they were."""
    return key.encode("utf-8", "surrogateescape")


class ServiceStats:
    """Counters the GUI and /health show; updated on the event loop only."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0


class BadRequest(Exception):
    """A request we refuse: status and the message sent back as `{"error": message}`."""

    def __init__(self, status: int, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close  # the rest of the body was not read: end the connection after answering


def error_response(status: int, message: str, close: bool = False, headers: dict | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if close:
        headers["connection"] = "close"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int, timeout_s: float = 60.0) -> bytes:
    """The request body, refusing more than `limit` bytes (announced or actually sent) and bodies
    that take longer than `timeout_s` to arrive (a slow sender would hold a connection forever)."""
    too_large = f"request body too large (the limit is {limit / 2**20:g} MB); send a shorter clip"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, too_large, close=True)
    deadline = time.monotonic() + timeout_s
    body = bytearray()
    while True:
        try:
            message = await asyncio.wait_for(request.receive(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise BadRequest(408, f"the request body did not arrive within {timeout_s:g} s "
                                  f"({len(body)} bytes came); send the whole clip at once", close=True) from None
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "the client closed the connection before sending the whole body", close=True)
        body += message.get("body", b"")
        if len(body) > limit:
            raise BadRequest(413, too_large, close=True)
        if not message.get("more_body", False):
            return bytes(body)


async def audio_bytes(request: Request, limit: int, timeout_s: float = 60.0) -> tuple[bytes, str]:
    """(bytes, name) of the clip in a raw body or in the first file of a multipart form."""
    body = await read_body(request, limit, timeout_s)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await first_form_file(request, body)
    if not body:
        raise BadRequest(400, f"empty body: send an audio file ({FORMATS}), e.g. curl --data-binary @clip.wav")
    return body, "request body"


async def first_form_file(request: Request, body: bytes) -> tuple[bytes, str]:
    """The first file of a multipart form whose (size-checked) body is already read."""
    from starlette.datastructures import UploadFile

    request._body = body  # Starlette parses the form from the body already read
    try:
        async with request.form(max_files=8, max_fields=64) as form:
            files = [v for v in form.values() if isinstance(v, UploadFile)]
            if not files:
                raise BadRequest(400, "the form has no file; attach the audio as a file field (curl -F file=@clip.wav)")
            data, name = await files[0].read(), files[0].filename or "uploaded file"
    except BadRequest:
        raise
    except Exception as error:  # noqa: BLE001 - any parse failure is the client's malformed form
        raise BadRequest(400, f"malformed multipart form: {str(error)[:200] or type(error).__name__}") from error
    if not data:
        raise BadRequest(400, f"{name}: the uploaded file is empty; attach an audio file ({FORMATS})")
    return data, name


def decode_clip(data: bytes, name: str, rate: int, limits: audio.AudioLimits) -> np.ndarray:
    """Decode and check an upload (the length limit is checked before decoding): 413 when the clip is
    too long, 400 when it is not usable audio."""
    try:
        wave, _ = audio.load_audio(data, rate, name=name, limits=limits)
    except AudioTooLong as error:
        raise BadRequest(413, str(error)) from error
    except AudioError as error:
        raise BadRequest(400, str(error)) from error
    return wave


async def receive_clip(request: Request, rate: int, limits: audio.AudioLimits, max_body_bytes: int,
                       body_timeout_s: float) -> np.ndarray:
    """The request's clip as a checked mono wave at `rate`; `BadRequest` for anything else."""
    data, name = await audio_bytes(request, max_body_bytes, body_timeout_s)
    try:
        return await run_in_threadpool(functools.partial(decode_clip, data, name, rate, limits))
    except BadRequest as error:
        if error.status == 400 and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            error.message += "; curl -d/--data mangles files: send it with --data-binary @clip.wav"
        raise


def ranking_answer(classifier: Classifier, probabilities: np.ndarray, top_k: int | None) -> dict:
    """The JSON ranking; a model that gave NaN/inf is our failure (500), never a `NaN` in the body."""
    if not np.all(np.isfinite(probabilities)):
        raise BadRequest(500, "the model gave scores that are not numbers for this clip; "
                              "check the model folder (retrain or export it again)")
    return {"ranking": [p.as_dict() for p in classifier.rank(probabilities, top_k)]}


def install_error_handlers(app: FastAPI) -> None:
    """Every error answer is `{"error": "..."}` JSON, FastAPI's own 404/405/422 and crashes included."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        if error.status_code == 404:
            message = (f"no such path {request.url.path}: the service answers POST /classify, GET /labels "
                       "and GET /health (docs at /docs)")
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("allow") or (error.headers or {}).get("Allow") or "another method"
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError):
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("query", "body", "path"))
            given = f" (got {item['input']!r:.40})" if "input" in item and item["input"] is not None else ""
            problems.append(f"{where or 'request'}: {item.get('msg', 'invalid')}{given}")
        return error_response(422, "bad parameter: " + "; ".join(problems))

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, error: Exception):
        return error_response(500, f"internal error ({type(error).__name__}); the server log has the details")


class ConcurrencyLimit:
    """ASGI middleware: at most `limit` requests in progress; the rest get a JSON 503 at once.

    Each request in progress may hold a body of up to --max-body-mb, so this bounds memory."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.active = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.active >= self.limit:
            response = error_response(503, f"the service is busy ({self.limit} requests in progress); retry shortly",
                                      close=True, headers={"retry-after": "1"})
            return await response(scope, receive, send)
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


def help_page(request: Request, classifier: Classifier, options: ServiceOptions) -> str:
    """What a browser shows at the service's URL: what it is and a curl line that works."""
    base = html.escape(str(request.base_url).rstrip("/"))
    key = ' -H "X-API-Key: YOUR_KEY"' if options.api_key else ""
    key_note = ("<p>This service needs an API key: send it in the <code>X-API-Key</code> header of every "
                "request (only /health and this page are open).</p>" if options.api_key else "")
    example = html.escape(json.dumps({"ranking": [{"label": classifier.labels[0] if classifier.labels else "intent",
                                                   "score": 0.93}], "latency_ms": 41.2}))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>IntentDesk intent service</title></head>
<body style="font-family: sans-serif; max-width: 46em">
<h1>IntentDesk speech intent service</h1>
<p>Model <b>{html.escape(classifier.model_dir.name)}</b> ranks the intents of short spoken clips.
POST an audio file ({FORMATS}; at most {options.max_seconds:g} s and {options.max_body_bytes / 2**20:g} MB)
to <code>/classify</code>, as the raw body or as a multipart file:</p>
<pre>curl{key} --data-binary @clip.wav {base}/classify?top_k=3
curl{key} -F file=@clip.wav {base}/classify</pre>
<p>The answer is JSON such as <code>{example}</code>; errors are <code>{{"error": "..."}}</code>.</p>
{key_note}<p>Also: <code>GET /labels</code>, <code>GET /health</code>, API docs at <a href="/docs">/docs</a>.</p>
</body></html>
"""


def create_app(classifier: Classifier, options: ServiceOptions | None = None) -> FastAPI:
    options = options or ServiceOptions()
    options.validate()
    batcher = MicroBatcher(classifier.scores, classifier.builder.inference_batches,
                           options.max_batch, options.max_wait_ms)
    limits = audio.AudioLimits(max_seconds=options.max_seconds)  # for every caller, GUI included
    stats = ServiceStats()
    expected_key = key_bytes(options.api_key) if options.api_key else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        batcher.start()
        yield
        batcher.stop()

    app = FastAPI(title="IntentDesk", summary="Ranked speech intents for short audio clips", lifespan=lifespan)
    app.state.stats = stats
    app.state.batcher = batcher
    app.state.options = options
    install_error_handlers(app)

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if expected_key and (request.method, request.url.path) not in OPEN_PATHS:
            # Starlette decodes header bytes as latin-1: encoding back gives the bytes the client sent.
            given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode("latin-1"), expected_key):
                return error_response(401, "missing or wrong API key: send it in the X-API-Key header")
        return await call_next(request)

    app.add_middleware(ConcurrencyLimit, limit=options.max_concurrent)

    async def score(wave: np.ndarray) -> np.ndarray:
        try:
            return await batcher.submit(wave)
        except ServiceClosed as error:
            raise BadRequest(503, str(error)) from error
        except Exception as error:  # noqa: BLE001 - a model failure on this clip only
            first_line = (str(error) or type(error).__name__).splitlines()[0][:200]
            raise BadRequest(500, f"the model failed on this clip: {first_line}") from error

    @app.post("/classify", summary="Rank the intents of one audio clip",
              openapi_extra={"requestBody": {"content": {"audio/wav": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}})
    async def classify(request: Request, top_k: int | None = Query(None, ge=1, description="how many intents")):
        started = time.perf_counter()
        stats.requests += 1
        try:
            wave = await receive_clip(request, classifier.rate, limits, options.max_body_bytes, options.body_timeout_s)
            answer = ranking_answer(classifier, await score(wave), top_k)
        except BadRequest as error:
            stats.errors += 1
            return error_response(error.status, error.message, close=error.close)
        answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

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
                "requests": stats.requests, "errors": stats.errors, "batches": batcher.batches,
                "clips": batcher.clips}

    return app
