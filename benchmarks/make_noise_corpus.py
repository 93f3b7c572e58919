"""Clips with no words in them, for the out-of-scope measures: what a phone line or a desk sends when
nobody speaks to it (issue #24: "silence and noise").

Kinds: line hiss at low level (loud enough to pass the "silent clip" check), white, pink and brown
noise, mains hum, a dial or ringing tone, keypad beeps, clicks and taps, and babble (several speech
clips of a corpus played backwards over each other: speech-like sound with no words). Each clip is
1-5 s at 8 kHz, band-limited to the telephone band like the spoken corpora, written as 16-bit WAV in
the audiofolder layout with the label `out_of_scope` and the kind in the `text` column (so the
benchmarks' "no words expected" is explicit):

    python benchmarks/make_noise_corpus.py OUT --speech DEV_CORPUS [--per-kind 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

RATE = 8000


def telephone_band(x: np.ndarray) -> np.ndarray:
    """300-3400 Hz, as a phone line passes it."""
    spectrum = np.fft.rfft(x)
    frequencies = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(frequencies < 300) | (frequencies > 3400)] = 0
    return np.fft.irfft(spectrum, len(x)).astype(np.float32)


def coloured(rng: np.random.Generator, n: int, power: float) -> np.ndarray:
    """Noise whose spectrum falls as 1/f**power (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequencies = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 1.0)
    return np.fft.irfft(spectrum / frequencies ** (power / 2), n)


def tones(n: int, pairs: list[tuple[float, float]], on: float, off: float) -> np.ndarray:
    """Two-frequency tones switched on and off (dial, ringing and keypad tones are such pairs)."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    period = int((on + off) * RATE)
    for start, (f1, f2) in zip(range(0, n, period), pairs * (n // period + 1), strict=False):
        end = min(n, start + int(on * RATE))
        out[start:end] = np.sin(2 * np.pi * f1 * t[start:end]) + np.sin(2 * np.pi * f2 * t[start:end])
    return out


def babble(rng: np.random.Generator, n: int, speech: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(n)
    for clip in (speech[i] for i in rng.choice(len(speech), 4, replace=False)):
        reversed_clip = np.resize(clip[::-1], n)
        out += np.roll(reversed_clip, int(rng.integers(n)))
    return out


def kinds(speech: list[np.ndarray]) -> dict[str, Callable[[np.random.Generator, int], np.ndarray]]:
    keypad = [(697, 1209), (770, 1336), (852, 1477), (941, 1336), (697, 1336), (770, 1209)]
    return {
        "line hiss": lambda rng, n: coloured(rng, n, 0.0) * 0.02,
        "white noise": lambda rng, n: coloured(rng, n, 0.0),
        "pink noise": lambda rng, n: coloured(rng, n, 1.0),
        "brown noise": lambda rng, n: coloured(rng, n, 2.0),
        "mains hum": lambda rng, n: sum(np.sin(2 * np.pi * 50 * k * np.arange(n) / RATE + rng.uniform(0, 6)) / k
                                        for k in range(1, 12)) + coloured(rng, n, 0.0) * 0.05,
        "ringing tone": lambda rng, n: tones(n, [(400, 450)], 0.4, 0.2) + coloured(rng, n, 0.0) * 0.02,
        "keypad beeps": lambda rng, n: tones(n, keypad, 0.12, 0.18) + coloured(rng, n, 0.0) * 0.02,
        "clicks": lambda rng, n: (rng.random(n) < 0.002) * rng.uniform(-1, 1, n) + coloured(rng, n, 0.0) * 0.01,
        "babble": lambda rng, n: babble(rng, n, speech),
    }


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), np.int16).astype(np.float32) / 32768


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--speech", type=Path, required=True, help="an 8 kHz corpus whose clips make the babble")
    parser.add_argument("--per-kind", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with open(args.speech / "metadata.csv", newline="") as handle:
        speech = [read(args.speech / row["file_name"]) for row in list(csv.DictReader(handle))[:200]]
    (args.out / "clips" / "out_of_scope").mkdir(parents=True, exist_ok=True)
    rows = []
    for kind, make in kinds(speech).items():
        for _ in range(args.per_kind):
            x = telephone_band(make(rng, int(rng.uniform(1.0, 5.0) * RATE)))
            x = x / (np.abs(x).max() + 1e-9) * (0.03 if kind == "line hiss" else rng.uniform(0.1, 0.8))
            name = f"clips/out_of_scope/{len(rows):05d}.wav"
            with wave.open(str(args.out / name), "wb") as handle:
                handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(RATE)
                handle.writeframes((np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes())
            rows.append({"file_name": name, "label": "out_of_scope", "voice": "none", "text": kind})
    with open(args.out / "metadata.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file_name", "label", "voice", "text"])
        writer.writeheader(), writer.writerows(rows)
    print(f"{len(rows)} clips ({len(kinds(speech))} kinds) -> {args.out}")


if __name__ == "__main__":
    main()
