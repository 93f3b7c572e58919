"""The disk cache of frozen-backbone features that quick mode (and full mode's warm start) train on.

The frozen part of the backbone runs once per clip; what it produces is stored on disk under a
key made of the clip's decoded content (and its speed variant), in a folder named by the
backbone's fingerprint. A second run with the same clips and backbone skips the backbone, and a
speed variant that is already cached is not even resampled.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.events import Stage
from intentdesk.core.learning.feature_pass import FeaturePass, Frames, feature_pass
from intentdesk.core.learning.prepared import TrainingRun


class _Captured(Exception):
    def __init__(self, value: torch.Tensor) -> None:
        self.value = value


def module_input(model, module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """Run `model` only until `module` is called and return that call's first input.

    Stops the forward pass there (an exception from a pre-hook), so nothing above `module` runs.
    """
    def hook(_module, args, kwargs):
        raise _Captured(args[0] if args else kwargs["hidden_states"])

    handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model(**inputs)
    except _Captured as captured:
        return captured.value
    finally:
        handle.remove()
    raise RuntimeError(f"the model never reached its {type(module).__name__}")


def content_key(wave: np.ndarray) -> str:
    """A key for a decoded clip: equal samples, equal key."""
    return hashlib.sha1(np.ascontiguousarray(wave, dtype=np.float32).tobytes()).hexdigest()


@dataclass(frozen=True)
class FeatureSource:
    """One clip (or speed variant) to get features for; `wave()` is only called on a cache miss."""

    key: str
    wave: Callable[[], np.ndarray]


def cached_features(run: TrainingRun, sources: list[FeatureSource], folder: Path,
                    frames: Frames) -> list[torch.Tensor]:
    """Features for every source: from the disk cache, computing (and storing) what is missing with
    `frames(model, inputs)` on the backbone in the feature pass's format (`feature_pass`).

    Clips that need no padding (fixed-window models) run in batches of 16; the others one by
    one, so each clip's features are exactly what single-clip inference computes. Reports
    `Stage.CACHING_FEATURES` progress per batch; on cancel it returns placeholders (the epoch
    loop sees the cancel and stops before using them).
    """
    folder.mkdir(parents=True, exist_ok=True)
    result: list[torch.Tensor | None] = [_read(folder / f"{source.key}.npy") for source in sources]
    todo = [i for i, value in enumerate(result) if value is None]
    batch = 16 if run.builder.fixed_window else 1
    run.model.eval()
    computing: FeaturePass | None = None
    for start in range(0, len(todo), batch):
        if run.cancel.is_set():
            return [r if r is not None else torch.zeros(1, 1) for r in result]
        run.progress.stage(Stage.CACHING_FEATURES, reading_text(run, start, len(todo), len(sources)),
                           start, len(todo))
        chunk = todo[start:start + batch]
        # The pass leaves the training's random state alone (transformers < 5.23 draws a LayerDrop number per
        # layer even in eval mode): a run whose features were cached trains exactly like one computing them.
        with torch.random.fork_rng(devices=[]):
            computing = computing or feature_pass(run, folder, frames)
            arrays = computing(run, run.builder.build([sources[i].wave() for i in chunk]))
        for i, array in zip(chunk, arrays):
            _write(folder, sources[i].key, array)
            result[i] = torch.from_numpy(array)
    run.progress.stage(Stage.CACHING_FEATURES, "The base model has listened to every clip", len(todo), len(todo))
    return result  # type: ignore[return-value]


def reading_text(run: TrainingRun, done: int, todo: int, sources: int) -> str:
    """What the feature pass is doing, in words, with what its count counts: the clips, and each
    training clip again at one or every other speed (`clip_sources`); those heard in an earlier run are
    not heard again."""
    clips, train = len(run.data.eval_waves) + len(run.data.train_waves), len(run.data.train_waves)
    counted = [f"{clips:,} clips"]
    if sources > clips + train:
        counted.append(f"the {train:,} training clips again slower and faster")
    elif sources > clips:
        counted.append(f"the {train:,} training clips again, each slower or faster")
    if todo < sources:
        counted.append(f"{sources - todo:,} of them heard in an earlier run")
    return f"The base model listens to every clip: {done:,} of {todo:,} ({'; '.join(counted)})"


def _read(path: Path) -> torch.Tensor | None:
    if not path.is_file():
        return None
    try:
        return torch.from_numpy(np.load(path))
    except (OSError, ValueError):
        return None  # a damaged cache entry is recomputed


def _write(folder: Path, key: str, array: np.ndarray) -> None:
    """Store one entry (temporary file, then rename); a failed write (a full disk: the OS error says
    so, which np.save's short-write message does not) leaves no partial file behind."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    tmp = folder / f".{key}.{os.getpid()}.npy"
    try:
        tmp.write_bytes(buffer.getbuffer())
        os.replace(tmp, folder / f"{key}.npy")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clip_sources(run: TrainingRun, window: float | None, every_speed: bool = True) -> tuple[list[FeatureSource], int]:
    """Sources for the eval clips, the training clips and the training clips' speed copies, in that
    order, and the number of variants per training clip (the original included).

    With `every_speed`, each training clip is heard again at every speed of the settings; without,
    at one of them (`one_speed`), which costs the feature pass one extra hearing per clip whatever the
    number of speeds.
    """
    data, rate = run.data, run.builder.rate
    factors = [f for f in run.settings.speed_perturbation if f != 1.0]
    sources = [FeatureSource(content_key(w), lambda w=w: w) for w in list(data.eval_waves) + list(data.train_waves)]
    originals = sources[len(data.eval_waves):]
    if every_speed:
        rounds = [[factor] * len(originals) for factor in factors]
    else:
        rounds = [[one_speed(source.key, factors) for source in originals]] if factors else []
    for speeds in rounds:
        for original, wave, factor in zip(originals, data.train_waves, speeds):
            sources.append(FeatureSource(f"{original.key}-x{factor:g}",
                                         lambda w=wave, f=factor: _variant(w, rate, f, window)))
    return sources, len(rounds) + 1


def one_speed(key: str, factors: list[float]) -> float:
    """The speed a clip is heard at when it is heard at only one: picked by its content (`key`), so the
    same clip gets the same copy in every run (a second run reuses its features, whatever the split),
    and the speeds share the clips about evenly."""
    return factors[int(key[:8], 16) % len(factors)]


def _variant(wave: np.ndarray, rate: int, factor: float, window: float | None) -> np.ndarray:
    changed = audio.change_speed(wave, rate, factor)
    return changed[: int(window * rate)] if window else changed


def split_variants(features: list[torch.Tensor], n_eval: int, n_train: int,
                   variants: int) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """(eval features, per training clip the features of its variants) from `clip_sources` order."""
    per_clip = [[features[n_eval + v * n_train + i] for v in range(variants)] for i in range(n_train)]
    return features[:n_eval], per_clip
