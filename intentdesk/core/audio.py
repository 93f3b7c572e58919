"""Reading, checking and converting audio.

Everything that enters the app as audio goes through `load_audio`, so every consumer (the
dataset store, training, the classifier, the service) rejects bad input with the same clear
message that names the file and the problem.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from intentdesk.core.errors import AudioError, AudioTooLong

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aiff", ".aif")
MIN_SECONDS = 0.1
DEFAULT_MAX_SECONDS = 60.0
SILENCE_PEAK = 1e-4  # below this peak amplitude a clip carries no usable sound


@dataclass(frozen=True)
class AudioLimits:
    """What a clip must satisfy to be used; `max_seconds=None` disables the upper bound."""

    min_seconds: float = MIN_SECONDS
    max_seconds: float | None = DEFAULT_MAX_SECONDS


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def decode(source: Path | bytes, name: str | None = None) -> tuple[np.ndarray, int]:
    """Decode a file (or its bytes) to float32 samples shaped (frames, channels), and its rate.

    soundfile (libsndfile) reads WAV/FLAC/OGG/MP3 quickly; librosa's audioread fallback covers
    containers libsndfile does not know (m4a, aac...) when a system decoder is present.
    """
    label = name or (str(source) if isinstance(source, Path) else "audio")
    if isinstance(source, Path) and not source.is_file():
        raise AudioError(label, "file not found", "check the path")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        samples, rate = sf.read(handle, dtype="float32", always_2d=True)
        return samples, int(rate)
    except Exception as sf_error:  # libsndfile raises several types for unknown formats
        if isinstance(source, bytes):
            raise AudioError(label, f"not a readable audio file ({_short(sf_error)})",
                             "use WAV, FLAC, OGG or MP3") from sf_error
        try:
            import librosa

            with warnings.catch_warnings():  # librosa warns about its own audioread fallback
                warnings.simplefilter("ignore")
                samples, rate = librosa.load(str(source), sr=None, mono=False)
        except Exception as fallback_error:
            raise AudioError(label, f"not a readable audio file ({_short(sf_error)})",
                             "use WAV, FLAC, OGG or MP3") from fallback_error
        samples = np.asarray(samples, dtype=np.float32)
        return (samples[:, None] if samples.ndim == 1 else samples.T), int(rate)


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)  # libsndfile names an in-memory buffer by its repr
    return text[:120]


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels: a stereo phone recording carries the same words on both."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """High-quality resampling with soxr, e.g. 8 kHz phone audio to 16 kHz.

    soxr directly rather than through librosa: importing librosa initialises numba, which holds
    the GIL for a quarter of a second and would freeze the GUI when it happens in a worker.
    """
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), rate, target_rate, quality="HQ")


def check(samples: np.ndarray, rate: int, source: str, limits: AudioLimits = AudioLimits()) -> None:
    """Raise `AudioError` when a mono clip cannot be used for training or classification."""
    if samples.size == 0:
        raise AudioError(source, "the file holds no audio samples", "record or export it again")
    if not np.all(np.isfinite(samples)):
        raise AudioError(source, "the audio contains NaN or infinite values", "export it again as 16-bit PCM")
    seconds = samples.shape[0] / rate
    if seconds < limits.min_seconds:
        raise AudioError(source, f"too short ({seconds:.3f} s; at least {limits.min_seconds:g} s needed)",
                         "record a longer clip")
    if limits.max_seconds is not None and seconds > limits.max_seconds:
        raise AudioTooLong(source, f"too long ({seconds:.1f} s; the limit is {limits.max_seconds:g} s)",
                         "cut it into shorter clips or raise the limit")
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioError(source, "the clip is silent", "check the microphone and record again")


def load_audio(source: Path | bytes, target_rate: int | None = None, *, name: str | None = None,
               limits: AudioLimits = AudioLimits()) -> tuple[np.ndarray, int]:
    """Decode, mix to mono, check and (optionally) resample. Returns (samples, rate)."""
    label = name or (str(source) if isinstance(source, Path) else "audio")
    samples, rate = decode(source, label)
    mono = to_mono(samples)
    check(mono, rate, label, limits)
    if target_rate is not None and target_rate != rate:
        mono, rate = resample(mono, rate, target_rate), target_rate
    return mono, rate


def check_array(samples: np.ndarray, rate: int, name: str = "recording",
                limits: AudioLimits = AudioLimits()) -> np.ndarray:
    """The in-memory twin of `load_audio`'s checks, for microphone takes and service uploads."""
    mono = to_mono(np.asarray(samples))
    check(mono, rate, name, limits)
    return mono


def change_speed(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Play `factor` times faster (pitch and tempo together, like Kaldi's speed perturbation):
    a cheap way to make a few voices sound like more speakers."""
    return resample(samples, rate, int(round(rate / factor)))


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """Encode mono float samples as 16-bit PCM WAV, the format clips are stored in."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def duration_seconds(path: Path) -> float:
    """Duration from the header only (fast); 0.0 when the header cannot be read."""
    try:
        info = sf.info(str(path))
        return float(info.frames) / float(info.samplerate)
    except Exception:
        return 0.0
