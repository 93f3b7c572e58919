"""Live mode without a GUI: a replayed microphone, utterances cut by voice activity, one result each."""

import threading
import time

import numpy as np
import pytest

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import Recorder
from intentdesk.core.audio.replay import replay_factory
from intentdesk.core.errors import AudioError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.live import LiveResult, LiveSession
from intentdesk.core.inference.results import FileResult, Prediction
from tests.helpers import write_two_utterances


@pytest.fixture
def microphone(tmp_path):
    """A microphone that says two utterances (at 1.0 s and 2.7 s of its stream), then stays quiet.
    Tests open it once the session listens, so that no utterance is missed however slow the set-up."""
    recorder = Recorder(RATE, None, replay_factory(write_two_utterances(tmp_path / "mic.wav"), speed=4.0, loop=False))
    yield recorder
    recorder.close()


class Collector:
    """Gathers what a session reports, from its worker thread."""

    def __init__(self) -> None:
        self.results: list[LiveResult] = []
        self.failures: list[str] = []
        self.threads: set[str] = set()

    def result(self, result: LiveResult) -> None:
        self.threads.add(threading.current_thread().name)
        self.results.append(result)

    def failure(self, message: str) -> None:
        self.failures.append(message)

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.results) + len(self.failures) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # and nothing more arrives


class Loudness:
    """A stand-in model that ranks "loud" above "quiet" and remembers each clip's length."""

    def __init__(self, fail_first_with: Exception | None = None) -> None:
        self.lengths: list[float] = []
        self.fail_first_with = fail_first_with

    def classify_recording(self, samples: np.ndarray, rate: int) -> FileResult:
        self.lengths.append(len(samples) / rate)
        if self.fail_first_with is not None:
            error, self.fail_first_with = self.fail_first_with, None
            raise error
        return FileResult("recording", [Prediction("loud", 0.9), Prediction("quiet", 0.1)], 1.0)


def test_each_utterance_is_classified_once_in_order(microphone, saved_classifier):
    classifier = Classifier(saved_classifier, precision="fp32")
    heard = Collector()
    started = time.time()
    session = LiveSession(classifier, microphone, heard.result)
    session.start()
    microphone.open()
    heard.wait_for(2)
    assert session.stop() and not session.running
    assert len(heard.results) == 2 and all(r.error is None for r in heard.results)
    assert all(sorted(p.label for p in r.ranking) == sorted(classifier.labels) for r in heard.results)
    first, second = (r.at - started for r in heard.results)
    assert 0.7 < first < 1.05 and 2.4 < second < 2.75  # stream time: the tones start at 1.0 s and 2.7 s
    assert heard.threads == {"live-classify"}


def test_an_unusable_clip_is_reported_and_listening_goes_on(microphone):
    model = Loudness(fail_first_with=AudioError("recording", "too quiet"))
    heard = Collector()
    session = LiveSession(model, microphone, heard.result, heard.failure)
    session.start()
    microphone.open()
    heard.wait_for(2)
    session.stop()
    assert [r.error for r in heard.results] == ["recording: too quiet", None]
    assert heard.results[1].ranking[0].label == "loud" and not heard.failures
    assert all(0.6 < seconds < 1.6 for seconds in model.lengths)  # each tone with its padding, not the whole stream


def test_a_bug_stops_the_session_with_one_message(microphone):
    heard = Collector()
    session = LiveSession(Loudness(fail_first_with=ValueError("boom")), microphone, heard.result, heard.failure)
    session.start()
    microphone.open()
    heard.wait_for(1)
    assert heard.failures == ["live mode stopped: unexpected error: boom"] and not heard.results
    assert not session.running and not microphone._listeners
    session.stop()


def test_stop_stops_listening(microphone):
    heard = Collector()
    session = LiveSession(Loudness(), microphone, heard.result)
    session.start()
    assert microphone._listeners == [session._hear]
    assert session.stop()
    assert not microphone._listeners
    microphone.open()
    time.sleep(1.0)  # the whole recording plays, to nobody
    assert not heard.results
    with pytest.raises(RuntimeError):
        session.start()
