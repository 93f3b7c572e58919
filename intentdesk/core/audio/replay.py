"""A fake microphone: a stream that plays an audio file into the recorder's callback.

Used by the tests (and `intentdesk gui --fake-mic FILE`) to drive recording and live mode
without hardware, at real time or faster.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from intentdesk.core.audio import io as audio
from intentdesk.core.audio.microphone import StreamFactory


class ReplayStream:
    """A stand-in for `sounddevice.InputStream` that plays a WAV file into the callback.

    Used by the tests (and `--fake-mic`) to drive recording and live mode without hardware.
    With `loop` it starts over at the end (a speaker who keeps talking); otherwise it goes on
    feeding silence, like a quiet room.
    """

    def __init__(self, path: Path, *, samplerate: int, blocksize: int, callback, speed: float = 1.0,
                 loop: bool = True, **_ignored) -> None:
        self.wave, _ = audio.load_audio(Path(path), samplerate, limits=audio.AudioLimits(max_seconds=None))
        self.blocksize = blocksize
        self.rate = samplerate
        self.callback = callback
        self.speed = speed
        self.loop = loop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="replay-mic")
        self._thread.start()

    def _run(self) -> None:
        position = 0
        while not self._stop.is_set():
            block = self.wave[position:position + self.blocksize]
            if len(block) < self.blocksize:
                block = np.concatenate([block, np.zeros(self.blocksize - len(block), np.float32)])
            position += self.blocksize
            if self.loop and position >= len(self.wave):
                position = 0
            self.callback(block.reshape(-1, 1), self.blocksize, None, None)
            time.sleep(self.blocksize / self.rate / self.speed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def close(self) -> None:
        self._stop.set()


def replay_factory(path: Path, speed: float = 1.0, loop: bool = True) -> StreamFactory:
    """A stream factory (the shape `Recorder` takes) that replays `path` instead of opening a device."""

    def factory(**kwargs):
        return ReplayStream(path, speed=speed, loop=loop, **kwargs)

    return factory
