"""Is this audio usable? The rules every clip and array meets, whatever its source.

Sample rate 4-384 kHz, 1-32 channels, finite samples within a sane peak, at least 0.1 s, at most
the configured length (60 s by default; never beyond 600 s) and not silent. Each refusal is an
AudioError that names the clip, the problem and what to do.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

from intentdesk.core.errors import AudioError, AudioTooLong, first_line

MIN_SECONDS = 0.1
DEFAULT_MAX_SECONDS = 60.0
SILENCE_PEAK = 1e-4  # below this peak amplitude a clip carries no usable sound
# Telephone audio starts at 8 kHz and studio audio ends at 384 kHz; a rate outside 4-384 kHz is a
# damaged or hostile header (a WAV that says 1 Hz would be resampled to 16000 times its size).
MIN_RATE = 4_000
MAX_RATE = 384_000
# More channels than any microphone array this app meets; a bigger count is a damaged header.
MAX_CHANNELS = 32
# Float samples lie within +-1; a little headroom is normal (gain before export), 1e30 is not.
MAX_PEAK = 16.0
# Where no length limit is set (dataset imports, playback), a clip is still never read beyond
# ten minutes, nor beyond ten minutes' worth of 48 kHz samples (115 MB of float32; 75 s at
# 384 kHz): intent clips last seconds.
HARD_MAX_SECONDS = 600.0
HARD_MAX_FRAMES = int(HARD_MAX_SECONDS * 48_000)
ARRAY_RATE_HINT = "pass the rate the samples were recorded at, e.g. 16000"
# 8- to 32-bit integer samples (WAV's PCM types) scaled to [-1, 1]: dtype -> (offset, full scale).
INTEGER_SCALES = {np.dtype(t): (o, s) for t, o, s in [
    (np.int8, 0, 2**7), (np.int16, 0, 2**15), (np.int32, 0, 2**31),
    (np.uint8, 2**7, 2**7), (np.uint16, 2**15, 2**15), (np.uint32, 2**31, 2**31)]}

@dataclass(frozen=True)
class AudioLimits:
    """What a clip must satisfy to be used; `max_seconds=None` means no configured upper bound
    (the hard bounds `HARD_MAX_SECONDS` and `HARD_MAX_FRAMES` still apply)."""

    min_seconds: float = MIN_SECONDS
    max_seconds: float | None = DEFAULT_MAX_SECONDS

    def longest(self, rate: int) -> float:
        """The longest clip accepted at `rate`, in seconds."""
        if self.max_seconds is not None:
            return self.max_seconds
        return min(HARD_MAX_SECONDS, HARD_MAX_FRAMES / rate)


def checked_rate(rate: object, source: str, hint: str = "the header is damaged; export the audio again") -> int:
    """The rate as an int within MIN_RATE..MAX_RATE, or an AudioError (a rate of 0 divides by
    zero, 1 Hz makes resampling allocate gigabytes, a string is a caller's mistake)."""
    whole = isinstance(rate, numbers.Real) and not isinstance(rate, bool) and math.isfinite(rate) \
        and float(rate).is_integer()
    if not whole:
        raise AudioError(source, f"the sample rate must be a whole number of Hz, not {rate!r}", ARRAY_RATE_HINT)
    if not MIN_RATE <= int(rate) <= MAX_RATE:
        raise AudioError(source, f"the sample rate is {int(rate)} Hz; IntentDesk reads {MIN_RATE} to {MAX_RATE} Hz",
                         hint)
    return int(rate)


def checked_channels(channels: int, source: str) -> int:
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(source, f"the header says {channels} channels; IntentDesk reads 1 to {MAX_CHANNELS}",
                         "the file is damaged; export it again as mono or stereo")
    return channels


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels: a stereo phone recording carries the same words on both."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def check_peak(samples: np.ndarray, source: str) -> float:
    """The peak amplitude; refuses NaN, infinity and absurd float values (1e30 would turn into
    NaN scores later)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if not math.isfinite(peak):
        raise AudioError(source, "the audio contains NaN or infinite values", "export it again as 16-bit PCM")
    if peak > MAX_PEAK:
        raise AudioError(source, f"the samples are out of range (peak {peak:.3g}; audio samples lie within ±1)",
                         "scale them to [-1, 1] or export the audio again as 16-bit PCM")
    return peak


def too_long(source: str, seconds: float, rate: int, limits: AudioLimits, more: bool = False) -> AudioTooLong:
    longest = limits.longest(rate)
    length = f"more than {longest:g} s" if more else f"{seconds:.1f} s"
    if limits.max_seconds is None:
        return AudioTooLong(source, f"too long ({length}; IntentDesk reads at most {longest:g} s of {rate} Hz audio)",
                            "cut it into shorter clips")
    return AudioTooLong(source, f"too long ({length}; the limit is {limits.max_seconds:g} s)",
                        "cut it into shorter clips or raise the limit")


def check(samples: np.ndarray, rate: int, source: str, limits: AudioLimits = AudioLimits()) -> None:
    """Raise `AudioError` when a mono clip cannot be used for training or classification."""
    rate = checked_rate(rate, source)
    if samples.size == 0:
        raise AudioError(source, "the file holds no audio samples", "record or export it again")
    peak = check_peak(samples, source)
    seconds = samples.shape[0] / rate
    if seconds < limits.min_seconds:
        raise AudioError(source, f"too short ({seconds:.3f} s; at least {limits.min_seconds:g} s needed)",
                         "record a longer clip")
    if seconds > limits.longest(rate):
        raise too_long(source, seconds, rate, limits)
    if peak < SILENCE_PEAK:
        raise AudioError(source, "the clip is silent", "check the microphone and record again")


def check_array(samples: np.ndarray, rate: int, name: str = "recording",
                limits: AudioLimits = AudioLimits()) -> np.ndarray:
    """The in-memory twin of `load_audio`'s checks, for microphone takes and service uploads.

    Returns mono float32 in [-1, 1]: 8- to 32-bit integer samples are scaled by their type's
    range (int16 32767 is full scale, not 32767.0), floats are taken as they are.
    """
    checked_rate(rate, name, ARRAY_RATE_HINT)
    mono = to_mono(_float_samples(samples, name))
    check(mono, rate, name, limits)
    return mono


def _float_samples(samples: object, name: str) -> np.ndarray:
    """Samples as float32 (frames,) or (frames, channels), or an AudioError saying what is wrong."""
    try:
        array = np.asarray(samples)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise AudioError(name, f"the samples are not an array of numbers ({short_error(error)})",
                         "pass a 1-D numpy array (or frames x channels)") from None
    if array.ndim not in (1, 2):
        raise AudioError(name, f"the samples have shape {array.shape}; expected (frames,) or (frames, channels)",
                         "pass a 1-D numpy array (or frames x channels)")
    if array.ndim == 2 and array.shape[1] > MAX_CHANNELS:
        raise AudioError(name, f"the samples have shape {array.shape}, i.e. {array.shape[1]} channels "
                               f"(at most {MAX_CHANNELS})", "arrays are (frames, channels); transpose it")
    if array.dtype in INTEGER_SCALES:
        offset, scale = INTEGER_SCALES[array.dtype]
        return (array.astype(np.float32) - np.float32(offset)) / np.float32(scale)
    if array.dtype.kind != "f":
        raise AudioError(name, f"the samples have type {array.dtype}; expected float or 8- to 32-bit integers",
                         "pass float32 samples in [-1, 1] or int16 PCM")
    check_peak(array, name)
    return array.astype(np.float32, copy=False)


def short_error(error: Exception) -> str:
    text = first_line(error, 10_000)
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)  # libsndfile names an in-memory buffer by its repr
    text = re.sub(r"^Error opening '[^']*': ", "", text)  # the label already names the file
    return text[:120]
