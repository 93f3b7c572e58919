"""Live mode without a GUI: a replayed microphone, utterances cut by voice activity, one result each.

Nothing here waits a fixed time: a session's clock is fixed, so a result's `at` is its stream time,
and a test that must know nothing else was heard waits for the recording's last utterance."""

import threading

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import Recorder
from intentdesk.core.audio.replay import replay_factory
from intentdesk.core.errors import AudioError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.live import LiveResult, LiveSession
from intentdesk.core.inference.results import FileResult, Prediction
from tests.helpers import wait_until, write_utterances

UTTERANCES = ((300.0, 0.7), (1400.0, 0.7), (700.0, 0.7))  # at 1.0 s, 2.7 s and 4.4 s of the stream
LAST_STARTS_AFTER = 4.0  # only the last utterance begins this late


@pytest.fixture
def microphone(tmp_path):
    """A microphone that says three utterances, then stays quiet. Tests open it once the session
    listens, so that no utterance is missed however slow the set-up."""
    recorder = Recorder(RATE, None, replay_factory(write_utterances(tmp_path / "mic.wav", UTTERANCES), speed=4.0,
                                                   loop=False))
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

    def wait_for_the_last_utterance(self) -> None:
        """Results come in order, so once the last utterance's is here every earlier one is too, and
        anything heard twice or heard in the quiet between them would be here as well."""
        wait_until(lambda: self.failures or any(r.at > LAST_STARTS_AFTER for r in self.results),
                   what="the last utterance's result")


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
    session = LiveSession(classifier, microphone, heard.result, clock=lambda: 0.0)  # `at` is stream time
    session.start()
    microphone.open()
    heard.wait_for_the_last_utterance()
    assert session.stop() and not session.running
    assert len(heard.results) == 3 and all(r.error is None for r in heard.results) and not heard.failures
    assert all(sorted(p.label for p in r.ranking) == sorted(classifier.labels) for r in heard.results)
    first, second, third = (r.at for r in heard.results)
    assert 0.7 < first < 1.05 and 2.4 < second < 2.75 and 4.1 < third < 4.45  # each tone, just before it starts
    assert heard.threads == {"live-classify"}


def test_an_unusable_clip_is_reported_and_listening_goes_on(microphone):
    model = Loudness(fail_first_with=AudioError("recording", "too quiet"))
    heard = Collector()
    session = LiveSession(model, microphone, heard.result, heard.failure, clock=lambda: 0.0)
    session.start()
    microphone.open()
    heard.wait_for_the_last_utterance()
    session.stop()
    assert [r.error for r in heard.results] == ["recording: too quiet", None, None]
    assert heard.results[1].ranking[0].label == "loud" and not heard.failures
    assert all(0.6 < seconds < 1.6 for seconds in model.lengths)  # each tone with its padding, not the whole stream


def test_a_bug_stops_the_session_with_one_message(microphone):
    heard = Collector()
    session = LiveSession(Loudness(fail_first_with=ValueError("boom")), microphone, heard.result, heard.failure)
    session.start()
    microphone.open()
    wait_until(lambda: not session.running, what="the session's end")  # after its one message
    assert heard.failures == ["live mode stopped: unexpected error: boom"] and not heard.results
    assert not session.running and not microphone._listeners
    session.stop()


def test_stop_stops_listening(microphone, tmp_path):
    heard = Collector()
    session = LiveSession(Loudness(), microphone, heard.result)
    session.start()
    assert microphone._listeners == [session._hear]
    assert session.stop()
    assert not microphone._listeners
    played, recording = [], sf.info(tmp_path / "mic.wav").frames
    microphone.add_listener(lambda block: played.append(len(block)))
    microphone.open()
    wait_until(lambda: sum(played) >= recording, what="the whole recording")
    assert not heard.results  # it played to nobody
    with pytest.raises(RuntimeError):
        session.start()
