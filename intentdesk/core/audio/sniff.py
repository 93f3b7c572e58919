"""What a file is when it is not audio we can read: text, a damaged WAV header, or unknown.

Read from the first bytes only, so the message can say "its content is text" or "the header says
0 channels" instead of a decoder's "format not recognised".
"""

from __future__ import annotations

import struct

from intentdesk.core.audio.checks import MAX_RATE, MIN_RATE, short_error
from intentdesk.core.errors import AudioError

HEAD_BYTES = 4096  # enough of a file to tell text from audio and to read a WAV header
FORMATS_HINT = "use WAV, FLAC, OGG or MP3"


def unreadable(label: str, head: bytes, error: Exception) -> AudioError:
    """Say what the content is when it is not audio we can read: text, a damaged header, or unknown."""
    if looks_like_text(head):
        return AudioError(label, "not an audio file (its content is text)", FORMATS_HINT)
    problem = wav_header_problem(head)
    if problem:
        return AudioError(label, f"not a readable audio file ({problem})", "the file is damaged; export it again")
    if is_audio_signature(head):
        return AudioError(label, f"not a readable audio file (damaged or unsupported: {short_error(error)})",
                          f"export it again, or convert it: {FORMATS_HINT}")
    return AudioError(label, "not an audio file (its content is unknown)", FORMATS_HINT)


def looks_like_text(head: bytes) -> bool:
    """Whether the head of a file reads as text (a CSV or a web page saved as .wav)."""
    if b"\0" in head or is_audio_signature(head):  # "RIFF" cut short is printable, but no text
        return False
    for cut in range(4):  # the head may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
            return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text)
        except UnicodeDecodeError:
            continue
    return False


def is_audio_signature(head: bytes) -> bool:
    """Whether the head starts like a known audio container (RIFF, FLAC, Ogg, MP3, MP4...)."""
    return (head[:4] in (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"FORM", b".snd", b"caff", b"wvpk")
            or head[:3] == b"ID3" or head[4:8] == b"ftyp"
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0))  # an MPEG frame


def wav_header_problem(head: bytes) -> str | None:
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
