"""Dynamic micro-batching: requests that arrive together share one forward pass.

The model runs in one worker thread, never on the event loop. The worker takes the first
waiting request, then collects more until it has `max_batch` or `max_wait_ms` has passed;
while it is busy with one batch the next one fills up on its own, so under load batches grow
without any waiting and at low load a request waits at most `max_wait_ms`. Requests are
grouped so that batching never changes a score (`InputBuilder.inference_batches`), and if a
batch fails, its requests are retried one by one so that one bad clip fails only itself.
A request made while the worker is not running (before start, after stop) fails at once with
`ServiceClosed` instead of waiting forever for a worker that will never answer it.

`seconds_per_clip` is the recent model time per clip (batches amortised), seeded by `warm_up` before the
first request; with `waiting`, the clips handed over and not yet answered, it says how long a new clip would
wait: the service refuses new requests while that is too long (`ConcurrencyLimit`), so under a flood a client
hears "busy, retry" at once instead of waiting a minute for its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Score = Callable[[list[np.ndarray]], np.ndarray]
Group = Callable[[Sequence[int], int], list[list[int]]]


class ServiceClosed(RuntimeError):
    """The batcher is not running (starting up or shutting down): the request can be retried."""


@dataclass
class _Request:
    wave: np.ndarray
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future, result: np.ndarray | None, error: BaseException | None) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class MicroBatcher:
    def __init__(self, score: Score, group: Group, max_batch: int = 16, max_wait_ms: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_ms >= 0")
        self._score = score
        self._group = group
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._state_lock = threading.Lock()  # submit vs stop: nothing is queued behind the stop mark
        self.batches = 0
        self.clips = 0
        self.seconds_per_clip = 0.0  # recent model time per clip (an average that follows the last batches)
        # clips handed over and not answered yet (counted on the event loop): what a new clip would wait behind;
        # requests whose body is still arriving are not here, so stalled uploads keep no one waiting
        self.waiting = 0
        self._clock = clock  # what times the model calls (tests give their own)

    def start(self) -> None:
        with self._state_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intentdesk-batcher", daemon=True)
                self._thread.start()
            self._accepting = True

    def stop(self) -> None:
        """Finish the requests already queued, then fail any left over (if the worker hung)."""
        with self._state_lock:
            self._accepting = False
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item.loop.call_soon_threadsafe(_settle, item.future, None, ServiceClosed("the service stopped"))

    async def submit(self, wave: np.ndarray) -> np.ndarray:
        """Scores of one clip, computed in the worker thread together with its batch-mates."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._state_lock:
            if not self._accepting:
                raise ServiceClosed("the service is starting up or shutting down; retry in a moment")
            self._queue.put(_Request(wave, future, loop))
        self.waiting += 1
        try:
            return await future
        finally:
            self.waiting -= 1

    async def warm_up(self, wave: np.ndarray) -> None:
        """A clip through the model twice before the first request: the first call is slow (memory, lazy
        set-up) and only the second one's time seeds `seconds_per_clip`, so admission has a fair estimate
        from the start. A clip the model refuses leaves the service as usable as before."""
        counted = self.batches, self.clips
        with contextlib.suppress(Exception):
            await self.submit(wave)
            self.seconds_per_clip = 0.0
            await self.submit(wave)
        self.batches, self.clips = counted  # what the service has done for its clients

    def _timed(self, count: int, seconds: float) -> None:
        per_clip = seconds / count
        self.seconds_per_clip = per_clip if not self.seconds_per_clip else 0.8 * self.seconds_per_clip + 0.2 * per_clip

    # ------------------------------------------------------------------ worker thread
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending = [first]
            deadline = time.monotonic() + self.max_wait
            stop = False
            while len(pending) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                pending.append(item)
            for batch in self._batches(pending):
                self._run_batch([pending[i] for i in batch])
            if stop:
                return

    def _batches(self, pending: list[_Request]) -> list[list[int]]:
        """Score-preserving groups; if grouping itself fails, one clip per batch (the worker must live)."""
        try:
            return self._group([len(r.wave) for r in pending], self.max_batch)
        except Exception:  # noqa: BLE001 - one-by-one is always exact
            return [[i] for i in range(len(pending))]

    def _run_batch(self, requests: list[_Request]) -> None:
        started = self._clock()
        try:
            rows = self._score([r.wave for r in requests])
        except Exception as error:  # noqa: BLE001 - delivered to the request(s), never kills the worker
            if len(requests) > 1:
                for request in requests:
                    self._run_batch([request])
                return
            requests[0].loop.call_soon_threadsafe(_settle, requests[0].future, None, error)
            return
        self._timed(len(requests), self._clock() - started)
        self.batches += 1
        self.clips += len(requests)
        for request, row in zip(requests, rows):
            request.loop.call_soon_threadsafe(_settle, request.future, row, None)
