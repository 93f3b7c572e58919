"""Microphone input (and clip playback) through sounddevice (PortAudio), with a replaceable stream.

The stream factory can be swapped for `replay.replay_factory`, which plays a file instead of
listening (tests, `--fake-mic`).

`Recorder` collects blocks from a callback thread under a lock; the GUI polls it with a timer,
so no widget is ever touched from the audio thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from intentdesk.core.audio.io import SAMPLE_RATE
from intentdesk.core.audio.vad import level_db
from intentdesk.core.errors import IntentDeskError, first_line

BLOCK = 800  # 50 ms


class MicrophoneError(IntentDeskError):
    """No PortAudio, no input device, or the device refused to open."""


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str


StreamFactory = Callable[..., object]  # same keywords as sounddevice.InputStream


def _sounddevice():
    try:
        import sounddevice
    except OSError as error:  # the Python package is there but the PortAudio library is not
        raise MicrophoneError("the PortAudio library is missing, so no microphone can be used "
                              "(on Linux: sudo apt-get install libportaudio2)") from error
    return sounddevice


def input_devices() -> list[InputDevice]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as error:
        raise MicrophoneError(f"cannot list audio devices ({error})") from error
    found = [InputDevice(i, d["name"]) for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0]
    if not found:
        raise MicrophoneError("no microphone found: plug one in, or import audio files instead")
    return found


def default_stream_factory(**kwargs) -> object:
    return _sounddevice().InputStream(**kwargs)


class Recorder:
    """Opens an input stream and keeps what it hears while `recording` is on.

    The stream stays open between takes so the level meter keeps moving and a take starts
    without the latency of opening a device.
    """

    def __init__(self, rate: int = SAMPLE_RATE, device: int | None = None,
                 stream_factory: StreamFactory | None = None, max_seconds: float = 10.0) -> None:
        self.rate = rate
        self.device = device
        self.max_seconds = max_seconds
        self._factory = stream_factory or default_stream_factory
        self._stream = None
        self._lock = threading.Lock()
        self._take: list[np.ndarray] = []
        self._recording = False
        self._listeners: list[Callable[[np.ndarray], None]] = []
        self.level = -100.0

    # ------------------------------------------------------------------ stream
    def open(self) -> None:
        if self._stream is not None:
            return
        try:
            stream = self._factory(samplerate=self.rate, channels=1, dtype="float32", blocksize=BLOCK,
                                   device=self.device, callback=self._on_block)
            stream.start()
        except MicrophoneError:
            raise
        except Exception as error:
            raise MicrophoneError(f"cannot open the microphone ({first_line(error, 160)})") from error
        self._stream = stream

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def add_listener(self, listener: Callable[[np.ndarray], None]) -> None:
        """Called from the audio thread with each block (live classification uses this)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[np.ndarray], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _on_block(self, indata, frames, time_info, status) -> None:
        block = np.array(indata, dtype=np.float32).reshape(-1)
        self.level = level_db(block)
        with self._lock:
            if self._recording:
                self._take.append(block)
                if sum(len(b) for b in self._take) >= self.max_seconds * self.rate:
                    self._recording = False
            listeners = list(self._listeners)
        for listener in listeners:
            listener(block)

    # ------------------------------------------------------------------ takes
    def start_take(self) -> None:
        self.open()
        with self._lock:
            self._take, self._recording = [], True

    def stop_take(self) -> np.ndarray:
        with self._lock:
            self._recording = False
            take, self._take = self._take, []
        return np.concatenate(take) if take else np.zeros(0, np.float32)

    @property
    def recording(self) -> bool:
        return self._recording

    @property
    def recorded_seconds(self) -> float:
        with self._lock:
            return sum(len(b) for b in self._take) / self.rate


def play(samples: np.ndarray, rate: int) -> None:
    """Start playing a clip on the default output (returns at once)."""
    sd = _sounddevice()
    try:
        sd.stop()
        sd.play(samples, rate)
    except Exception as error:
        raise MicrophoneError(f"cannot play audio ({first_line(error, 160)})") from error
