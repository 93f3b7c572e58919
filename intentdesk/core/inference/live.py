"""Live mode: cut a microphone stream into utterances by voice activity and classify each as it ends.

The audio thread only feeds the segmenter and queues finished utterances (cheap work, so no block
is dropped); one worker thread classifies them in order and hands each `LiveResult` to a plain
callback. The callback runs on that worker thread: a GUI forwards it to its own thread (a Qt
signal does this by itself).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.vad import UtteranceSegmenter
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.results import FileResult, Prediction

Block = np.ndarray
Listener = Callable[[Block], None]


class Listenable(Protocol):
    """A microphone that calls listeners with each block (`microphone.Recorder`)."""

    def add_listener(self, listener: Listener) -> None: ...

    def remove_listener(self, listener: Listener) -> None: ...


class ClassifiesArrays(Protocol):
    """What live mode needs of a model (`classifier.Classifier`): its way in for arrays, whose
    `FileResult` carries the transcript of a words model."""

    def classify_recording(self, samples: np.ndarray, rate: int) -> FileResult: ...


@dataclass(frozen=True)
class LiveResult:
    """One utterance heard: when it began (seconds since the epoch) and its ranking, or why it was
    skipped; with a words model, what was heard and whether the answer is uncertain."""

    at: float
    ranking: list[Prediction] | None
    error: str | None = None
    transcript: str | None = None
    uncertain: bool = False
    note: str | None = None
    words_problem: str | None = None  # by sound only although the model has words, and why


class LiveSession:
    """Listens to `microphone` between `start()` and `stop()`, reporting every utterance to `on_result`.

    A clip the model cannot score is reported with `error` set and listening goes on; an unexpected
    failure (a bug) stops the session and is passed to `on_failure` as one message. `clock` reads the
    time at `start()` that utterance times count from (a fixed one makes `LiveResult.at` stream time).
    """

    def __init__(self, classifier: ClassifiesArrays, microphone: Listenable,
                 on_result: Callable[[LiveResult], None],
                 on_failure: Callable[[str], None] | None = None, rate: int = RATE,
                 clock: Callable[[], float] = time.time) -> None:
        self.classifier = classifier
        self.microphone = microphone
        self.on_result = on_result
        self.on_failure = on_failure
        self.rate = rate
        self._clock = clock
        self._segmenter = UtteranceSegmenter(rate)
        self._utterances: queue.Queue[tuple[float, np.ndarray]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Begin listening; utterance times are counted from now."""
        if self._thread is not None:
            raise RuntimeError("a live session starts once; make a new one to listen again")
        self._started_at = self._clock()
        self._thread = threading.Thread(target=self._work, daemon=True, name="live-classify")
        self._thread.start()
        self.microphone.add_listener(self._hear)

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop listening and wait for the worker; utterances not yet classified are dropped.
        True when the worker has ended (a forward pass under way may outlast `timeout`)."""
        self.microphone.remove_listener(self._hear)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _hear(self, block: Block) -> None:
        """Audio thread: segment and queue, nothing slow."""
        for offset, samples in self._segmenter.feed(block):
            self._utterances.put((offset, samples))

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                offset, samples = self._utterances.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                result = self._classify(offset, samples)
            except Exception as error:  # a bug: say so once and stop, rather than fail on every utterance
                self.microphone.remove_listener(self._hear)
                if self.on_failure is not None:
                    self.on_failure(f"live mode stopped: unexpected error: {error}")
                return
            self.on_result(result)

    def _classify(self, offset: float, samples: np.ndarray) -> LiveResult:
        at = self._started_at + offset
        try:
            result = self.classifier.classify_recording(samples, self.rate)
            return LiveResult(at, result.ranking, result.error, result.transcript, result.uncertain, result.note,
                              result.words_problem)
        except IntentDeskError as error:
            return LiveResult(at, None, str(error))
