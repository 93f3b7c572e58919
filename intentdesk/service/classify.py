"""POST /classify from request to answer, shared by `intentdesk serve` and the Ray app: the body read
under its size limit and deadline, the clip decoded (its length checked before decoding) and fitted
to the model's window, the scores checked and ranked by the same `Classifier` calls as the CLI's.

The event loop only moves bytes: decoding runs in a thread pool, the model in the caller's `score`
(the micro-batcher's worker, or Ray Serve's batch).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError, AudioTooLong, first_line
from intentdesk.service.errors import BadRequest
from intentdesk.service.options import ServiceOptions

if TYPE_CHECKING:
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.inference.words_part import ClipScore

FORMATS = "WAV, FLAC, OGG or MP3"
Score = Callable[[np.ndarray], Awaitable["np.ndarray | ClipScore"]]


async def classify_request(request: Request, classifier: Classifier, score: Score, top_k: int | None,
                           options: ServiceOptions) -> dict:
    """`{"ranking": [...], "latency_ms": ..., "transcript": ..., "uncertain": ...}` (the ranking fused
    with the words part and its transcript when the model has one, else `"transcript": null`), plus
    `"note"` when only part of a long clip was used and `"words_problem"` when the model has a words part
    that this answer could not use (by sound only, and why), as `intentdesk classify --json` says them;
    `BadRequest` for anything that is not an answer. `score` gives probabilities or a `ClipScore`."""
    started = time.perf_counter()
    wave, note = await receive_clip(request, classifier, options)
    result = classifier.answers.result("request", await score(wave), 0.0, note, top_k)
    if result.error is not None:  # the clip passed every input check: NaN scores are the model's failure
        raise BadRequest(500, "the model gave scores that are not numbers for this clip; "
                              "check the model folder (retrain or export it again)")
    answer = {"ranking": [p.as_dict() for p in result.ranking or []],
              "latency_ms": round((time.perf_counter() - started) * 1000, 2),
              "transcript": result.transcript, "uncertain": result.uncertain}
    return {**answer, **result.remarks()}


def score_batch(classifier: Classifier, waves: list[np.ndarray]) -> list[ClipScore]:
    """A batch the service's micro-batcher or Ray Serve's @batch gathered: clips that can share a forward
    pass do (`Classifier.score_waves`), then the words part (when the model has one) hears the same batch."""
    return classifier.score_waves(waves, batch_size=len(waves)).rows()


async def receive_clip(request: Request, classifier: Classifier,
                       options: ServiceOptions) -> tuple[np.ndarray, str | None]:
    """The request's clip as the model will see it (see `ClipReader.read`); `BadRequest` for anything else."""
    data, name = await audio_bytes(request, options.max_body_bytes, options.body_timeout_s)
    try:
        return await run_in_threadpool(functools.partial(decode_clip, classifier, data, name, options.limits))
    except BadRequest as error:
        if error.status == 400 and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            error.message += "; if it was sent with curl -d/--data, that mangles files: use --data-binary @clip.wav"
        raise


def decode_clip(classifier: Classifier, data: bytes, name: str,
                limits: audio.AudioLimits) -> tuple[np.ndarray, str | None]:
    """Decode and check an upload (the length limit is checked before decoding): 413 when the clip is
    too long, 400 when it is not usable audio."""
    try:
        return classifier.clips.read(data, name, limits)
    except AudioTooLong as error:
        raise BadRequest(413, str(error)) from error
    except AudioError as error:
        raise BadRequest(400, str(error)) from error


async def audio_bytes(request: Request, limit: int, timeout_s: float = 60.0) -> tuple[bytes, str]:
    """(bytes, name) of the clip in a raw body or in the first file of a multipart form."""
    body = await read_body(request, limit, timeout_s)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await first_form_file(request, body)
    if not body:
        raise BadRequest(400, f"empty body: send an audio file ({FORMATS}), e.g. curl --data-binary @clip.wav")
    return body, "request body"


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


async def first_form_file(request: Request, body: bytes) -> tuple[bytes, str]:
    """The first file of a multipart form whose (size-checked) body is already read."""
    from starlette.datastructures import UploadFile

    async def replay() -> dict:  # the body was consumed by read_body: a fresh Request reads it from here
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(request.scope, replay).form(max_files=8, max_fields=64) as form:
            files = [v for v in form.values() if isinstance(v, UploadFile)]
            if not files:
                raise BadRequest(400, "the form has no file; attach the audio as a file field (curl -F file=@clip.wav)")
            data, name = await files[0].read(), files[0].filename or "uploaded file"
    except BadRequest:
        raise
    except Exception as error:  # noqa: BLE001 - any parse failure is the client's malformed form
        raise BadRequest(400, f"malformed multipart form: {first_line(error)}") from error
    if not data:
        raise BadRequest(400, f"{name}: the uploaded file is empty; attach an audio file ({FORMATS})")
    return data, name
