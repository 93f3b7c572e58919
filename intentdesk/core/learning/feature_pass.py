"""The frozen backbone of quick mode's feature pass, in the fastest number format that agrees with float32 here.

The feature pass is inference (the frozen part runs once per clip, without gradients), so it can run in a
converted model as `intentdesk classify` does (`precision.choose`), not only under bf16 autocast on CPUs with
AMX. Measured on an AMD EPYC with AVX512-BF16 and no AMX (Whisper tiny.en, 128 dev clips): float32 (what ran
there before) 8.9 s, autocast 4.4 s, converted bf16 3.5 s. Only bf16 is offered: int8 moved the features
6 % from float32's (bf16 0.8 %), and the head trained on them is the one `pipeline` users run in float32.

The format is kept in the cache folder beside the features it made (`FORMAT_FILE`): a folder never mixes
formats, and a run that finds it does not time anything again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from intentdesk.core.files import atomic_write_bytes
from intentdesk.core.json_files import JsonProblem, read_json
from intentdesk.core.learning.prepared import TrainingRun
from intentdesk.core.models import backbone
from intentdesk.core.models.precision import inputs_for
from intentdesk.core.models.precision.choice import choose

FEATURE_FORMATS = ("bf16",)  # besides float32
FORMAT_FILE = "format.json"

# What the frozen backbone gives for a batch of model inputs: one array per clip.
Frames = Callable[[torch.nn.Module, dict[str, torch.Tensor]], list[np.ndarray]]


@dataclass
class FeaturePass:
    """The model the pass runs (`precision`: its format) and how to call it."""

    precision: str
    model: torch.nn.Module
    frames: Frames

    def __call__(self, run: TrainingRun, inputs: dict[str, torch.Tensor]) -> list[np.ndarray]:
        # A model left in float32 keeps bf16 autocast where the hardware makes it pay (a GPU, AMX).
        return run_frames(run, self.model, self.frames, inputs, run.settings.bf16 and self.precision == "fp32")


def run_frames(run: TrainingRun, model: torch.nn.Module, frames: Frames, inputs: dict[str, torch.Tensor],
               autocast: bool = False) -> list[np.ndarray]:
    with torch.inference_mode(), backbone.autocast_for(run.device, autocast):
        return frames(model, inputs_for(model, inputs, run.device))


def feature_pass(run: TrainingRun, folder: Path, frames: Frames) -> FeaturePass:
    """The pass for the features in `folder`: the format recorded there, else the fastest agreeing one
    (bf16 or float32, timed on probe clips; float32 when bf16 is switched off), recorded there."""
    recorded = folder / FORMAT_FILE
    remembered = None
    with contextlib.suppress(JsonProblem):
        value = read_json(recorded, 4096)
        remembered = value.get("precision") if isinstance(value, dict) else None
    allowed = FEATURE_FORMATS if run.settings.bf16 else ()

    def forward(model: torch.nn.Module, waves: list[np.ndarray]) -> torch.Tensor:
        arrays = run_frames(run, model, frames, run.builder.build(waves))  # float32 itself, not autocast
        # Unit-length frames: `choose`'s tolerance then means the same for any backbone's scale.
        return torch.cat([F.normalize(torch.from_numpy(np.asarray(a, np.float32)).reshape(-1, a.shape[-1]),
                                      dim=-1).flatten() for a in arrays])

    choice = choose(run.model, forward, run.builder.rate, run.device, "auto", remembered, allowed)
    if remembered != choice.precision:
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # unrecorded, the next run only times the formats again
            atomic_write_bytes(recorded, json.dumps({"precision": choice.precision}).encode())
    return FeaturePass(choice.precision, choice.model, frames)
