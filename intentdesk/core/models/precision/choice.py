"""Which number format a model runs in on this machine: time the candidates, check them against float32
on probe clips, keep the fastest that agrees (`choose`), and remember the choice (`ChoiceMemo`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import first_line
from intentdesk.core.files import atomic_write_bytes
from intentdesk.core.json_files import JsonProblem, read_json
from intentdesk.core.models import PRECISIONS, backbone
from intentdesk.core.models.precision.bf16 import to_bf16
from intentdesk.core.models.precision.int8 import to_int8
from intentdesk.paths import cache_home
from intentdesk.resources import resource_dir

TOLERANCE = 0.03  # largest allowed difference of any softmax score against float32
# Part of the remembered choice's key: raise it when the check changes, so that no format accepted
# by a weaker check is reused (2: speech probes, after tones alone accepted a drifting int8 model; 3: int8
# computes Wav2Vec2's feature encoder frames first, so a format accepted before is checked again).
CHECK_VERSION = "check-3"
# Every format besides float32: its name (as in `PRECISIONS`) and the function converting a float32 model.
CONVERTERS: dict[str, Callable[[torch.nn.Module], torch.nn.Module]] = {"bf16": to_bf16, "int8": to_int8}

Forward = Callable[[torch.nn.Module, list[np.ndarray]], torch.Tensor]


def candidates(device: torch.device) -> list[str]:
    """Formats worth trying on this machine, fastest first by expectation."""
    if device.type != "cpu":
        return []
    return ["bf16", "int8"] if backbone.cpu_has_bf16() else ["int8"]  # `choose` times them: AMX or not


def probe_waves(rate: int) -> list[np.ndarray]:
    """Deterministic speech-band test signals (1 s and 3 s): a gliding tone with noise."""
    rng = np.random.default_rng(0)
    waves = []
    for seconds in (1.0, 3.0):
        t = np.arange(int(rate * seconds)) / rate
        tone = np.sin(2 * np.pi * (150 + 400 * t / seconds) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        waves.append((0.3 * tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32))
    return waves


def speech_probes(rate: int) -> list[np.ndarray]:
    """Four spoken sentences (resources/probes) at `rate`. Tones alone are not enough: an int8
    Whisper model drifted <= 0.03 on them and up to 0.19 on real speech."""
    return [audio.load_audio(path, rate)[0] for path in sorted(resource_dir().joinpath("probes").glob("*.flac"))]


def median_ms(call: Callable[[], object], runs: int = 3) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@dataclass
class Choice:
    precision: str
    model: torch.nn.Module
    timings_ms: dict[str, float]
    rejected: dict[str, str]
    remembered: bool = False


class ChoiceMemo:
    """The format `choose` picked for a model folder on this machine, kept in the user cache.

    Timing and checking the formats costs ~3 s per load of a Wav2Vec2-base model, more than a
    one-file `intentdesk classify` takes; the same model, torch and CPU give the same answer.
    """

    def __init__(self, model_dir: Path) -> None:
        files = sorted(f for f in model_dir.iterdir() if f.is_file() and f.suffix in (".json", ".safetensors", ".bin"))
        parts = [CHECK_VERSION, str(model_dir.resolve()), torch.__version__, platform.machine(),
                 str(backbone.cpu_has_bf16()), str(backbone.cpu_has_fast_bf16())]
        parts += [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]
        key = hashlib.sha1("|".join(parts).encode()).hexdigest()[:20]
        self.path = cache_home() / "precision" / f"{key}.json"

    def read(self) -> str | None:
        """The remembered format, or None when there is none (or the memo is not one IntentDesk wrote)."""
        with contextlib.suppress(JsonProblem):
            remembered = read_json(self.path, 4096)
            if isinstance(remembered, dict) and remembered.get("precision") in PRECISIONS:
                return remembered["precision"]
        return None

    def write(self, precision: str) -> None:
        with contextlib.suppress(OSError):  # a read-only cache only costs the next load some time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, json.dumps({"precision": precision}).encode())


def choose(model: torch.nn.Module, forward: Forward, rate: int, device: torch.device,
           requested: str = "auto", remembered: str | None = None, allowed: Sequence[str] | None = None) -> Choice:
    """The fastest format whose probe scores stay within TOLERANCE of float32.

    `requested` other than "auto" forces a format (still checked; a failing one falls back to
    float32 and says why in `rejected`). With "auto", a `remembered` choice (see `ChoiceMemo`)
    is taken without timing or checking again, and `allowed` (None: every candidate) limits the
    formats tried.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    tried = [n for n in candidates(device) if allowed is None or n in allowed]
    recalled = recall(model, remembered, tried) if requested == "auto" else None
    if recalled is not None:
        return recalled
    names = [n for n in (tried if requested == "auto" else [requested]) if n != "fp32"]
    if not names:
        return Choice("fp32", model, {}, {})
    tones, speech = probe_waves(rate), speech_probes(rate)
    if requested == "auto" and not speech:
        return Choice("fp32", model, {}, {n: "no speech probes to check it against" for n in names})
    with torch.inference_mode():
        accepted, timings, rejected = trial(model, forward, names, tones + speech, tones[-1], requested == "auto")
    if not accepted:
        return Choice("fp32", model, timings, rejected)
    best = min(accepted, key=lambda n: timings.get(n, 0.0))
    if requested == "auto" and timings[best] >= timings["fp32"]:
        return Choice("fp32", model, timings, rejected)
    return Choice(best, accepted[best], timings, rejected)


def recall(model: torch.nn.Module, remembered: str | None, tried: list[str]) -> Choice | None:
    """The remembered format, converted without checking again (if it is still one of the formats `tried`
    here); None to choose afresh."""
    if remembered == "fp32":
        return Choice("fp32", model, {}, {}, remembered=True)
    if remembered in tried:
        with contextlib.suppress(Exception):  # if it no longer converts, choose afresh
            return Choice(remembered, CONVERTERS[remembered](model), {}, {}, remembered=True)
    return None


def trial(model: torch.nn.Module, forward: Forward, names: list[str], waves: list[np.ndarray],
          timing_wave: np.ndarray, time_fp32: bool) -> tuple[dict[str, torch.nn.Module], dict[str, float],
                                                             dict[str, str]]:
    """Convert `model` to each format and compare its scores with float32's on `waves`:
    (accepted models, timings in ms on `timing_wave`, why each other format was rejected)."""
    reference = [forward(model, [w]) for w in waves]
    timings = {"fp32": median_ms(lambda: forward(model, [timing_wave]))} if time_fp32 else {}
    accepted: dict[str, torch.nn.Module] = {}
    rejected: dict[str, str] = {}
    for name in names:
        try:
            fast = CONVERTERS[name](model)
            drift = max(float((forward(fast, [w]) - ref).abs().max()) for w, ref in zip(waves, reference))
        except Exception as error:  # any failure means "not this format", never a crash
            rejected[name] = f"failed: {first_line(error, 120)}"
            continue
        if not drift <= TOLERANCE:
            rejected[name] = f"scores differ from float32 by {drift:.3f}"
            continue
        accepted[name] = fast
        timings[name] = median_ms(lambda m=fast: forward(m, [timing_wave]))
    return accepted, timings, rejected
