"""Reading, checking and converting audio.

Everything that enters the app as audio goes through `load_audio` (files and uploads) or
`check_array` (microphone takes, in-memory arrays), so every consumer (the dataset store,
training, the classifier, the service) rejects bad input with the same clear message that names
the file and the problem.

Hostile input is refused before it can cost much: the header's sample rate, channel count and
length are checked before any sample is decoded, and decoding goes in bounded blocks that stop
at the length limit, because a compressed file's header can lie (a 180 KB FLAC can hold an hour
of silence, 490 MB once decoded).
"""

from __future__ import annotations

import io
import math
import numbers
import re
import stat
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from intentdesk.core.errors import AudioError, AudioTooLong

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aiff", ".aif")
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
BLOCK_FRAMES = 1 << 16  # frames decoded per read: at most 8 MB at MAX_CHANNELS
HEAD_BYTES = 4096  # enough of a file to tell text from audio and to read a WAV header
UNKNOWN_FRAMES = 1 << 62  # libsndfile reports an unknown length (streamed FLAC) as 2**63 - 1
FORMATS_HINT = "use WAV, FLAC, OGG or MP3"
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


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


# ---------------------------------------------------------------------------------------- decoding
def decode(source: Path | bytes, name: str | None = None, *, limits: AudioLimits = AudioLimits(max_seconds=None),
           cut_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode a file (or its bytes) to float32 samples shaped (frames, channels), and its rate.

    Refuses (AudioError) a clip longer than `limits` without decoding it; with `cut_seconds`
    only that much is read instead. soundfile (libsndfile) reads WAV/FLAC/OGG/MP3; audioread
    covers containers libsndfile does not know (m4a, aac...) when a system decoder is present.
    """
    return _read(source, _label(source, name), limits, cut_seconds, mono=False)


def _label(source: Path | bytes, name: str | None) -> str:
    return name or (str(source) if isinstance(source, (Path, str)) else "audio")


def _read(source: Path | bytes, label: str, limits: AudioLimits, cut_seconds: float | None,
          mono: bool) -> tuple[np.ndarray, int]:
    if isinstance(source, (str, bytearray, memoryview)):
        source = Path(source) if isinstance(source, str) else bytes(source)
    head = _file_head(source, label) if isinstance(source, Path) else bytes(source[:HEAD_BYTES])
    if not head:
        raise AudioError(label, "the file is empty (0 bytes)", "record or export it again")
    try:
        handle = sf.SoundFile(str(source) if isinstance(source, Path) else io.BytesIO(source))
    except Exception as sf_error:  # libsndfile raises several types for unknown formats
        if isinstance(source, bytes) or _looks_like_text(head):
            raise _unreadable(label, head, sf_error) from sf_error
        return _read_with_audioread(source, label, head, sf_error, limits, cut_seconds, mono)
    try:
        with handle:
            known = handle.frames if handle.frames < UNKNOWN_FRAMES else None
            return _take(label, handle.samplerate, handle.channels, known, _sf_blocks(handle),
                         limits, cut_seconds, mono)
    except AudioError:
        raise
    except Exception as error:  # a header that parses over data that does not
        raise AudioError(label, f"not a readable audio file (damaged audio data: {_short(error)})",
                         "export it again") from error


def _sf_blocks(handle: sf.SoundFile) -> Iterator[np.ndarray]:
    while True:
        block = handle.read(frames=BLOCK_FRAMES, dtype="float32", always_2d=True)
        if not len(block):
            return
        yield block


def _file_head(path: Path, label: str) -> bytes:
    """The first bytes of a regular file, or an AudioError that says plainly why there are none."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise AudioError(label, "file not found", "check the path") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the name
        raise AudioError(label, f"cannot read the file: {_os_reason(error)}", "check the path") from None
    if stat.S_ISDIR(mode):
        raise AudioError(label, "is a folder, not an audio file", "pick the audio files inside it")
    if not stat.S_ISREG(mode):  # a pipe or a device would block or never end
        raise AudioError(label, "is not a regular file (a pipe, socket or device)", "save the audio to a file")
    try:
        with open(path, "rb") as file:
            return file.read(HEAD_BYTES)
    except OSError as error:
        raise AudioError(label, f"cannot read the file: {_os_reason(error)}",
                         "check the file's permissions" if isinstance(error, PermissionError) else "") from None


def _os_reason(error: OSError | ValueError) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    return (getattr(error, "strerror", None) or str(error)).lower()


def _checked_rate(rate: object, source: str, hint: str = "the header is damaged; export the audio again") -> int:
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


def _checked_channels(channels: int, source: str) -> int:
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(source, f"the header says {channels} channels; IntentDesk reads 1 to {MAX_CHANNELS}",
                         "the file is damaged; export it again as mono or stereo")
    return channels


def _take(label: str, rate: object, channels: int, known_frames: int | None, blocks: Iterator[np.ndarray],
          limits: AudioLimits, cut_seconds: float | None, mono: bool) -> tuple[np.ndarray, int]:
    """Check the header's rate, channels and length, then decode at most the cut, or one frame
    past the length limit (a header that understates the length is caught all the same)."""
    rate = _checked_rate(rate, label)
    channels = _checked_channels(channels, label)
    if cut_seconds is not None:
        return _collect(blocks, channels, int(cut_seconds * rate), label, mono), rate
    limit = int(limits.longest(rate) * rate)
    if known_frames is not None and known_frames > limit:
        raise _too_long(label, known_frames / rate, rate, limits)
    samples = _collect(blocks, channels, limit + 1, label, mono)
    if len(samples) > limit:
        raise _too_long(label, len(samples) / rate, rate, limits, more=True)
    return samples, rate


def _collect(blocks: Iterator[np.ndarray], channels: int, max_frames: int, label: str, mono: bool) -> np.ndarray:
    """Take float32 (frames, channels) blocks until `max_frames`, checking each on the way (so
    mixing to mono never averages 1e30 and -1e30 into a clean zero)."""
    kept: list[np.ndarray] = []
    total = 0
    for block in blocks if max_frames > 0 else ():
        block = block[: max_frames - total]
        _check_peak(block, label)
        kept.append(block.mean(axis=1, dtype=np.float32) if mono else block)
        total += len(block)
        if total >= max_frames:  # stop before decoding another block
            break
    if not kept:
        return np.zeros(0 if mono else (0, channels), np.float32)
    return np.concatenate(kept)


def _read_with_audioread(path: Path, label: str, head: bytes, sf_error: Exception, limits: AudioLimits,
                         cut_seconds: float | None, mono: bool) -> tuple[np.ndarray, int]:
    """The fallback for what libsndfile cannot open, under the same header checks and bounds."""
    try:
        with warnings.catch_warnings():  # audioread imports deprecated stdlib readers (aifc, sunau)
            warnings.simplefilter("ignore")
            import audioread

            with audioread.audio_open(str(path)) as file:
                rate = _checked_rate(file.samplerate, label)  # before `duration`, which divides by it
                seconds = file.duration
                known = round(seconds * rate) if seconds and math.isfinite(seconds) else None
                return _take(label, rate, file.channels, known, _pcm16_blocks(file, file.channels),
                             limits, cut_seconds, mono)
    except AudioError:
        raise
    except Exception as fallback_error:
        raise _unreadable(label, head, sf_error) from fallback_error


def _pcm16_blocks(buffers, channels: int) -> Iterator[np.ndarray]:
    """audioread's interleaved 16-bit buffers as float32 (frames, channels) blocks; a buffer may
    end mid-frame, so the odd bytes wait for the next one."""
    rest = b""
    for buffer in buffers:
        data = rest + bytes(buffer)
        usable = len(data) - len(data) % (2 * channels)
        rest = data[usable:]
        if usable:
            yield np.frombuffer(data[:usable], "<i2").reshape(-1, channels).astype(np.float32) / 32768


def _unreadable(label: str, head: bytes, error: Exception) -> AudioError:
    """Say what the content is when it is not audio we can read: text, a damaged header, or unknown."""
    if _looks_like_text(head):
        return AudioError(label, "not an audio file (its content is text)", FORMATS_HINT)
    problem = _wav_header_problem(head)
    if problem:
        return AudioError(label, f"not a readable audio file ({problem})", "the file is damaged; export it again")
    if _is_audio_signature(head):
        return AudioError(label, f"not a readable audio file (damaged or unsupported: {_short(error)})",
                          f"export it again, or convert it: {FORMATS_HINT}")
    return AudioError(label, "not an audio file (its content is unknown)", FORMATS_HINT)


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head or _is_audio_signature(head):  # "RIFF" cut short is printable, but no text
        return False
    for cut in range(4):  # the head may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
            return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text)
        except UnicodeDecodeError:
            continue
    return False


def _is_audio_signature(head: bytes) -> bool:
    return (head[:4] in (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"FORM", b".snd", b"caff", b"wvpk")
            or head[:3] == b"ID3" or head[4:8] == b"ftyp"
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0))  # an MPEG frame


def _wav_header_problem(head: bytes) -> str | None:
    """What is wrong with a WAV's format chunk, in words (libsndfile says "SF_INFO struct
    incomplete" for a rate of 0)."""
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    position = 12
    while position + 8 <= len(head):
        chunk, size = head[position:position + 4], struct.unpack("<I", head[position + 4:position + 8])[0]
        if chunk == b"fmt ":
            if position + 16 > len(head) or size < 16:
                return "the WAV header is truncated"
            channels, rate = struct.unpack("<HI", head[position + 10:position + 16])
            if channels == 0:
                return "the header says 0 channels"
            if not MIN_RATE <= rate <= MAX_RATE:
                return f"the header says the sample rate is {rate} Hz; IntentDesk reads {MIN_RATE} to {MAX_RATE} Hz"
            return None
        position += 8 + size + size % 2
    return "the WAV header is truncated" if len(head) < HEAD_BYTES else None


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)  # libsndfile names an in-memory buffer by its repr
    text = re.sub(r"^Error opening '[^']*': ", "", text)  # the label already names the file
    return text[:120]


# ---------------------------------------------------------------------------------------- checking
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


def _check_peak(samples: np.ndarray, source: str) -> float:
    """The peak amplitude; refuses NaN, infinity and absurd float values (1e30 would turn into
    NaN scores later)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if not math.isfinite(peak):
        raise AudioError(source, "the audio contains NaN or infinite values", "export it again as 16-bit PCM")
    if peak > MAX_PEAK:
        raise AudioError(source, f"the samples are out of range (peak {peak:.3g}; audio samples lie within ±1)",
                         "scale them to [-1, 1] or export the audio again as 16-bit PCM")
    return peak


def _too_long(source: str, seconds: float, rate: int, limits: AudioLimits, more: bool = False) -> AudioTooLong:
    longest = limits.longest(rate)
    length = f"more than {longest:g} s" if more else f"{seconds:.1f} s"
    if limits.max_seconds is None:
        return AudioTooLong(source, f"too long ({length}; IntentDesk reads at most {longest:g} s of {rate} Hz audio)",
                            "cut it into shorter clips")
    return AudioTooLong(source, f"too long ({length}; the limit is {limits.max_seconds:g} s)",
                        "cut it into shorter clips or raise the limit")


def check(samples: np.ndarray, rate: int, source: str, limits: AudioLimits = AudioLimits()) -> None:
    """Raise `AudioError` when a mono clip cannot be used for training or classification."""
    rate = _checked_rate(rate, source)
    if samples.size == 0:
        raise AudioError(source, "the file holds no audio samples", "record or export it again")
    peak = _check_peak(samples, source)
    seconds = samples.shape[0] / rate
    if seconds < limits.min_seconds:
        raise AudioError(source, f"too short ({seconds:.3f} s; at least {limits.min_seconds:g} s needed)",
                         "record a longer clip")
    if seconds > limits.longest(rate):
        raise _too_long(source, seconds, rate, limits)
    if peak < SILENCE_PEAK:
        raise AudioError(source, "the clip is silent", "check the microphone and record again")


def load_audio(source: Path | bytes, target_rate: int | None = None, *, name: str | None = None,
               limits: AudioLimits = AudioLimits(), cut_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode, mix to mono, check and (optionally) resample. Returns (samples, rate).

    `cut_seconds` keeps only the start of a longer clip (training's window), cut at the file's
    own rate before resampling, so a long or low-rate file costs no more than the part kept.
    """
    label = _label(source, name)
    mono, rate = _read(source, label, limits, cut_seconds, mono=True)
    check(mono, rate, label, limits)
    if target_rate is not None and target_rate != rate:
        mono, rate = resample(mono, rate, target_rate), target_rate
    return mono, rate


def check_array(samples: np.ndarray, rate: int, name: str = "recording",
                limits: AudioLimits = AudioLimits()) -> np.ndarray:
    """The in-memory twin of `load_audio`'s checks, for microphone takes and service uploads.

    Returns mono float32 in [-1, 1]: 8- to 32-bit integer samples are scaled by their type's
    range (int16 32767 is full scale, not 32767.0), floats are taken as they are.
    """
    _checked_rate(rate, name, ARRAY_RATE_HINT)
    mono = to_mono(_float_samples(samples, name))
    check(mono, rate, name, limits)
    return mono


def _float_samples(samples: object, name: str) -> np.ndarray:
    """Samples as float32 (frames,) or (frames, channels), or an AudioError saying what is wrong."""
    try:
        array = np.asarray(samples)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise AudioError(name, f"the samples are not an array of numbers ({_short(error)})",
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
    _check_peak(array, name)
    return array.astype(np.float32, copy=False)


def change_speed(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Play `factor` times faster (pitch and tempo together, like Kaldi's speed perturbation):
    a cheap way to make a few voices sound like more speakers."""
    return resample(samples, rate, int(round(rate / factor)))


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """Encode mono float samples as 16-bit PCM WAV, the format clips are stored in."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0), int(rate), format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def duration_seconds(path: Path) -> float:
    """Duration from the header only (fast); 0.0 when the header cannot be read or is absurd.
    Never raises nor blocks: the clip table calls it for every file, hostile ones included."""
    try:
        if not Path(path).is_file():  # opening a named pipe would wait for a writer
            return 0.0
        info = sf.info(str(path))
        if not MIN_RATE <= info.samplerate <= MAX_RATE or not 0 <= info.frames < UNKNOWN_FRAMES:
            return 0.0
        return float(info.frames) / float(info.samplerate)
    except Exception:
        return 0.0
