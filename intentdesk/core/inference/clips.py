"""Audio as a classifier takes it: files, uploads and arrays decoded once, at the model's rate, cut to
the part the model sees, with a note when that is not all of it (a long recording is never scored on
its first seconds without saying so)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intentdesk.core.audio import io as audio

# Longest stretch of a clip a raw-waveform model is given: attention cost grows with the square
# of the length, so an hour-long file would never finish. Spectrogram models (Whisper) have
# their own fixed window. Intent clips are a few seconds; longer input is cut and said so.
LONGEST_INPUT_SECONDS = audio.DEFAULT_MAX_SECONDS

Clip = tuple[np.ndarray, "str | None"]  # the wave the model uses, and the note when it is not the whole clip


def cut_note(window: float, total: float | None = None) -> str:
    """What a clip cut to the model's window says, with the figures apart: "the first 4.0 s of 4.0 s" read as
    if the whole clip had been used (4.04 s long)."""
    if total is None:
        return f"only the first {window:.1f} s were used"
    digits = next((d for d in (1, 2) if f"{window:.{d}f}" != f"{total:.{d}f}"), 3)
    return f"only the first {window:.{digits}f} s of {total:.{digits}f} s were used"


class ClipReader:
    """Clips for a model reading `rate` Hz through a `fixed_window` of seconds (Whisper, AST) or none,
    under `limits` (the classifier's own; the service passes its own per request)."""

    def __init__(self, rate: int, fixed_window: float | None, limits: audio.AudioLimits) -> None:
        self.rate, self.limits = rate, limits
        self.window = fixed_window or LONGEST_INPUT_SECONDS  # how much of a clip the model sees

    def fit(self, wave: np.ndarray) -> Clip:
        """The part of a wave (at `self.rate`) the model uses, and a note when that is not all of it."""
        keep = int(round(self.window * self.rate))
        if len(wave) <= keep:
            return wave, None
        if len(wave) - keep <= self.rate // 1000:  # a millisecond more (rounding, resampling): not worth a note
            return wave[:keep], None
        return wave[:keep], cut_note(self.window, len(wave) / self.rate)

    def read(self, source: Path | bytes, name: str | None = None, limits: audio.AudioLimits | None = None) -> Clip:
        """A file or an upload, as the model uses it. Without a length limit (`limits`, else the reader's
        own), only the part the model sees is decoded: a two-hour file costs no more than its first window,
        and its header says how long it was. With one (the service), a longer clip is refused before
        decoding instead (`AudioTooLong`). `AudioError` when it is not usable audio."""
        limits = limits or self.limits
        if name is None and isinstance(source, Path):
            name = str(source)
        if limits.max_seconds is not None or not isinstance(source, Path):
            wave, _ = audio.load_audio(source, self.rate, name=name, limits=limits)
            return self.fit(wave)
        wave, total = audio.load_start(source, self.rate, self.window, name=name, limits=limits)
        wave, _ = self.fit(wave)  # resampling may round up by a sample
        if total > self.window + 1e-3:
            return wave, cut_note(self.window, total)
        if not total and len(wave) >= int(self.window * self.rate):
            return wave, cut_note(self.window)
        return wave, None

    def from_array(self, samples: np.ndarray, rate: int, name: str) -> Clip:
        """A recording in memory (a microphone take, live mode's utterance), checked like a file."""
        wave = audio.check_array(samples, rate, name, limits=self.limits)
        return self.fit(audio.resample(wave, rate, self.rate))
