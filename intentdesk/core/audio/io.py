"""Reading and writing audio: decode files and bytes (header first, in bounded blocks), convert, encode WAV.

Everything that enters the app as audio goes through `load_audio` (files and uploads) or
`check_array` (microphone takes, in-memory arrays; the rules are in checks.py, re-exported here),
so every consumer rejects bad input with the same clear message that names the file and the problem.
`audio_files_under` is the one answer to "which audio files are in this folder", shared by the
importers, the store's repair on open and the GUI's drop handlers, so they all agree.

Hostile input is refused before it can cost much: the header's sample rate, channel count and
length are checked before any sample is decoded, and decoding goes in bounded blocks that stop
at the length limit, because a compressed file's header can lie (a 180 KB FLAC can hold an hour
of silence, 490 MB once decoded).
"""

from __future__ import annotations

import io
import math
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from intentdesk.core.audio import SAMPLE_RATE
from intentdesk.core.audio.checks import (
    DEFAULT_MAX_SECONDS,
    MAX_PEAK,
    MAX_RATE,
    MIN_RATE,
    AudioLimits,
    check,
    check_array,
    check_peak,
    checked_channels,
    checked_rate,
    short_error,
    too_long,
)
from intentdesk.core.audio.sniff import HEAD_BYTES, looks_like_text, unreadable
from intentdesk.core.errors import AudioError

__all__ = ["AUDIO_EXTENSIONS", "DEFAULT_MAX_SECONDS", "MAX_PEAK", "MAX_RATE", "MIN_RATE", "SAMPLE_RATE", "AudioError",
           "AudioLimits", "audio_files_under", "change_speed", "check", "check_array", "decode", "duration_seconds",
           "is_audio_file", "load_audio", "load_start", "resample", "wav_bytes"]


AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aiff", ".aif")
BLOCK_FRAMES = 1 << 16  # frames decoded per read: at most 8 MB at MAX_CHANNELS
UNKNOWN_FRAMES = 1 << 62  # libsndfile reports an unknown length (streamed FLAC) as 2**63 - 1


def is_audio_file(path: Path) -> bool:
    """Whether the name says audio (by extension; the content is checked when it is read)."""
    return path.suffix.lower() in AUDIO_EXTENSIONS


def audio_files_under(folder: Path, recursive: bool = True) -> list[Path]:
    """The audio files in `folder` (and below it when `recursive`), sorted.

    Hidden files and folders (`.trash`, `.staging`, `.git`, `._x.wav`) are skipped: they are app or
    system bookkeeping, not recordings. Links to folders are not followed, so a link loop cannot
    hang the walk; links to files are listed (callers decide whether to trust where they lead).
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")] if recursive else []
        found += [Path(dirpath, name) for name in filenames
                  if not name.startswith(".") and is_audio_file(Path(name))]
    return sorted(found)


# ---------------------------------------------------------------------------------------- decoding
def decode(source: Path | bytes, name: str | None = None, *, limits: AudioLimits = AudioLimits(max_seconds=None),
           cut_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode a file (or its bytes) to float32 samples shaped (frames, channels), and its rate.

    Refuses (AudioError) a clip longer than `limits` without decoding it; with `cut_seconds`
    only that much is read instead. soundfile (libsndfile) reads WAV/FLAC/OGG/MP3; audioread
    covers containers libsndfile does not know (m4a, aac...) when a system decoder is present.
    """
    samples, rate, _ = _read(source, _label(source, name), limits, cut_seconds, mono=False)
    return samples, rate


def _label(source: Path | bytes, name: str | None) -> str:
    return name or (str(source) if isinstance(source, (Path, str)) else "audio")


def _read(source: Path | bytes, label: str, limits: AudioLimits, cut_seconds: float | None,
          mono: bool) -> tuple[np.ndarray, int, float]:
    """(samples, rate, the whole clip's seconds as its header says, 0.0 when it does not say)."""
    if isinstance(source, (str, bytearray, memoryview)):
        source = Path(source) if isinstance(source, str) else bytes(source)
    head = _file_head(source, label) if isinstance(source, Path) else bytes(source[:HEAD_BYTES])
    if not head:
        raise AudioError(label, "the file is empty (0 bytes)", "record or export it again")
    try:
        handle = sf.SoundFile(str(source) if isinstance(source, Path) else io.BytesIO(source))
    except Exception as sf_error:  # libsndfile raises several types for unknown formats
        if isinstance(source, bytes) or looks_like_text(head):
            raise unreadable(label, head, sf_error) from sf_error
        return _read_with_audioread(source, label, head, sf_error, limits, cut_seconds, mono)
    try:
        with handle:
            known = handle.frames if handle.frames < UNKNOWN_FRAMES else None
            return _take(label, handle.samplerate, handle.channels, known, _sf_blocks(handle),
                         limits, cut_seconds, mono)
    except AudioError:
        raise
    except Exception as error:  # a header that parses over data that does not
        raise AudioError(label, f"not a readable audio file (damaged audio data: {short_error(error)})",
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


def _take(label: str, rate: object, channels: int, known_frames: int | None, blocks: Iterator[np.ndarray],
          limits: AudioLimits, cut_seconds: float | None, mono: bool) -> tuple[np.ndarray, int, float]:
    """Check the header's rate, channels and length, then decode at most the cut, or one frame
    past the length limit (a header that understates the length is caught all the same)."""
    rate = checked_rate(rate, label)
    channels = checked_channels(channels, label)
    total = known_frames / rate if known_frames is not None else 0.0
    if cut_seconds is not None:
        return _collect(blocks, channels, int(cut_seconds * rate), label, mono), rate, total
    limit = int(limits.longest(rate) * rate)
    if known_frames is not None and known_frames > limit:
        raise too_long(label, known_frames / rate, rate, limits)
    samples = _collect(blocks, channels, limit + 1, label, mono)
    if len(samples) > limit:
        raise too_long(label, len(samples) / rate, rate, limits, more=True)
    return samples, rate, total


def _collect(blocks: Iterator[np.ndarray], channels: int, max_frames: int, label: str, mono: bool) -> np.ndarray:
    """Take float32 (frames, channels) blocks until `max_frames`, checking each on the way (so
    mixing to mono never averages 1e30 and -1e30 into a clean zero)."""
    kept: list[np.ndarray] = []
    total = 0
    for block in blocks if max_frames > 0 else ():
        block = block[: max_frames - total]
        check_peak(block, label)
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
                rate = checked_rate(file.samplerate, label)  # before `duration`, which divides by it
                seconds = file.duration
                known = round(seconds * rate) if seconds and math.isfinite(seconds) else None
                return _take(label, rate, file.channels, known, _pcm16_blocks(file, file.channels),
                             limits, cut_seconds, mono)
    except AudioError:
        raise
    except Exception as fallback_error:
        raise unreadable(label, head, sf_error) from fallback_error


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


# ---------------------------------------------------------------------------------------- converting
def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """High-quality resampling with soxr, e.g. 8 kHz phone audio to 16 kHz.

    soxr directly rather than through librosa: importing librosa initialises numba, which holds
    the GIL for a quarter of a second and would freeze the GUI when it happens in a worker.
    """
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), rate, target_rate, quality="HQ")


def load_audio(source: Path | bytes, target_rate: int | None = None, *, name: str | None = None,
               limits: AudioLimits = AudioLimits(), cut_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode, mix to mono, check and (optionally) resample. Returns (samples, rate).

    `cut_seconds` keeps only the start of a longer clip (training's window), cut at the file's
    own rate before resampling, so a long or low-rate file costs no more than the part kept.
    """
    mono, rate, _ = _load(source, target_rate, name, limits, cut_seconds)
    return mono, rate


def load_start(source: Path | bytes, target_rate: int, seconds: float, *, name: str | None = None,
               limits: AudioLimits = AudioLimits(max_seconds=None)) -> tuple[np.ndarray, float]:
    """The first `seconds` of a clip (mono, at `target_rate`) and how long the whole clip is by its
    header (0.0 when it does not say), from one opening of the file: what a classifier needs to
    say that only part of a long recording was used."""
    mono, _, total = _load(source, target_rate, name, limits, seconds)
    return mono, total


def _load(source: Path | bytes, target_rate: int | None, name: str | None, limits: AudioLimits,
          cut_seconds: float | None) -> tuple[np.ndarray, int, float]:
    label = _label(source, name)
    mono, rate, total = _read(source, label, limits, cut_seconds, mono=True)
    check(mono, rate, label, limits)
    if target_rate is not None and target_rate != rate:
        mono, rate = resample(mono, rate, target_rate), target_rate
    return mono, rate, total


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
