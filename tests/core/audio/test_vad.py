import numpy as np

from intentdesk.core.audio.vad import UtteranceSegmenter, trim_silence
from tests.helpers import tone

RATE = 16000


def test_trim_keeps_a_short_word_in_a_long_take():
    rng = np.random.default_rng(0)
    word = tone(500, 0.3, RATE)
    take = np.concatenate([np.zeros(RATE * 3), word, np.zeros(RATE)]).astype(np.float32)
    take += rng.normal(0, 0.001, len(take)).astype(np.float32)
    trimmed = trim_silence(take, RATE)
    assert 0.3 <= len(trimmed) / RATE <= 0.7


def test_trim_keeps_raw_take_when_nothing_stands_out():
    noise = np.random.default_rng(1).normal(0, 0.05, RATE * 2).astype(np.float32)
    assert len(trim_silence(noise, RATE)) == len(noise)


def test_segmenter_finds_two_utterances():
    gap = np.zeros(RATE, np.float32)
    stream = np.concatenate([gap, tone(300, 0.6, RATE), gap, tone(900, 0.6, RATE), gap])
    stream += np.random.default_rng(2).normal(0, 0.001, len(stream)).astype(np.float32)
    segmenter = UtteranceSegmenter(RATE)
    found = []
    for start in range(0, len(stream), 800):
        found += list(segmenter.feed(stream[start:start + 800]))
    assert len(found) == 2
    assert abs(found[0][0] - 1.0) < 0.25 and abs(found[1][0] - 2.6) < 0.25
