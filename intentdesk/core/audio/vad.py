"""Energy-based voice activity: trimming takes, and cutting a live stream into utterances.

Frame energies are compared with a threshold set between the clip's noise floor and its loud
parts, so the same code works for a quiet laptop mic and a loud headset without tuning.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

FRAME_SECONDS = 0.02
KEEP_PAD_SECONDS = 0.15


def frame_db(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS level in dBFS of consecutive 20 ms frames."""
    size = max(1, int(rate * FRAME_SECONDS))
    count = len(samples) // size
    if count == 0:
        return np.zeros(0)
    frames = samples[: count * size].reshape(count, size).astype(np.float64)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)


def level_db(block: np.ndarray) -> float:
    """The level of one block of samples, for a meter (-100 dBFS for digital silence)."""
    if block.size == 0:
        return -100.0
    return float(max(-100.0, 10 * np.log10(np.mean(np.square(block, dtype=np.float64)) + 1e-10)))


def speech_threshold(levels: np.ndarray, min_gap_db: float = 12.0) -> float:
    """Halfway (in dB) between the quiet 10th percentile and the loudest frame, at least
    `min_gap_db` above the floor: a frame louder than this counts as speech. (The loudest frame,
    not a high percentile: a short word in a long take fills only a few percent of the frames.)"""
    floor, loud = np.percentile(levels, 10), np.max(levels)
    return max(floor + min_gap_db, (floor + loud) / 2)


def trim_silence(samples: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading and trailing silence, keeping a short margin. Returns the raw take when the
    trim would leave nothing (a take that is all noise is for the user to judge, not us)."""
    levels = frame_db(samples, rate)
    if len(levels) < 3:
        return samples
    loud = np.flatnonzero(levels > speech_threshold(levels))
    if len(loud) == 0 or np.max(levels) - np.percentile(levels, 10) < 12.0:
        return samples  # no clear speech against the background: keep the raw take
    size = int(rate * FRAME_SECONDS)
    pad = int(rate * KEEP_PAD_SECONDS)
    start = max(0, loud[0] * size - pad)
    end = min(len(samples), (loud[-1] + 1) * size + pad)
    trimmed = samples[start:end]
    return trimmed if len(trimmed) >= int(0.1 * rate) else samples


class UtteranceSegmenter:
    """Feed microphone blocks; get back each utterance once it is followed by enough silence.

    The threshold is relative to a running noise floor, so it adapts when the room gets louder.
    """

    def __init__(self, rate: int, min_speech_s: float = 0.25, end_silence_s: float = 0.5,
                 max_utterance_s: float = 8.0, margin_db: float = 12.0) -> None:
        self.rate = rate
        self.min_speech = int(min_speech_s / FRAME_SECONDS)
        self.end_silence = int(end_silence_s / FRAME_SECONDS)
        self.max_frames = int(max_utterance_s / FRAME_SECONDS)
        self.margin_db = margin_db
        self.frame = int(rate * FRAME_SECONDS)
        self._pending = np.zeros(0, np.float32)
        self._floor: float | None = None
        self._frames: list[np.ndarray] = []
        self._pre: list[np.ndarray] = []
        self._speech_frames = 0
        self._silent_run = 0
        self.position_s = 0.0  # stream time of the end of the samples seen so far

    def feed(self, block: np.ndarray) -> Iterator[tuple[float, np.ndarray]]:
        """Yields (start time in seconds, samples) for every utterance completed by this block."""
        self._pending = np.concatenate([self._pending, np.asarray(block, np.float32).reshape(-1)])
        while len(self._pending) >= self.frame:
            frame, self._pending = self._pending[: self.frame], self._pending[self.frame:]
            self.position_s += FRAME_SECONDS
            done = self._step(frame)
            if done is not None:
                yield done

    def _step(self, frame: np.ndarray) -> tuple[float, np.ndarray] | None:
        level = level_db(frame)
        if self._floor is None:
            self._floor = level
        is_speech = level > self._floor + self.margin_db
        if not self._frames:
            self._floor = min(self._floor + 0.05, level) if not is_speech else self._floor  # track the quiet
            self._pre = (self._pre + [frame])[-int(KEEP_PAD_SECONDS / FRAME_SECONDS):]
            if is_speech:
                self._frames = [*self._pre, frame]
                self._speech_frames, self._silent_run = 1, 0
            return None
        self._frames.append(frame)
        if is_speech:
            self._speech_frames += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        if self._silent_run >= self.end_silence or len(self._frames) >= self.max_frames:
            frames, speech = self._frames, self._speech_frames
            self._frames, self._pre, self._speech_frames, self._silent_run = [], [], 0, 0
            if speech >= self.min_speech:
                samples = np.concatenate(frames)
                return self.position_s - len(samples) / self.rate, samples
        return None
