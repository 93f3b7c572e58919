"""Quick mode: the backbone is frozen below its last layer(s); only the top is trained.

The frozen part runs once per clip and its output (the input of the top layer) is cached on
disk, keyed by the clip's decoded content and the backbone's fingerprint; every epoch after
that only runs the top layer and the head, so an epoch takes seconds and a second run with the
same clips and backbone skips the backbone entirely.

Why the top layer and not only a head on pooled features: the classification heads of
Hugging Face audio models are linear (projector -> mean pool -> classifier), so a head alone is
a linear probe, which tops out well below what one trainable transformer layer reaches on
unseen voices. The trained layer is the model's own, so the saved folder is a standard
checkpoint that `pipeline("audio-classification")` runs unchanged.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import ModelError
from intentdesk.core.events import Stage
from intentdesk.core.learning.context import TrainingRun
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.task import split_head_params
from intentdesk.core.models import backbone
from intentdesk.core.models.inputs import length_buckets
from intentdesk.paths import cache_home

WAV2VEC2_FAMILY = {"wav2vec2", "hubert", "data2vec-audio"}


def _encoder(model):
    if backbone.is_whisper(model):
        return model.encoder
    return getattr(model, model.base_model_prefix).encoder


def check_quick_support(model) -> None:
    kind = model.config.model_type
    if not (backbone.is_whisper(model) or kind in WAV2VEC2_FAMILY):
        raise ModelError(f"Quick mode supports Whisper, Wav2Vec2, HuBERT and Data2Vec-Audio backbones, "
                         f"not {kind}; use Full mode for this model")
    if getattr(model.config, "use_weighted_layer_sum", False):
        raise ModelError("Quick mode needs a model without use_weighted_layer_sum; use Full mode")


class _Captured(Exception):
    def __init__(self, hidden: torch.Tensor) -> None:
        self.hidden = hidden


class TopLayers(torch.nn.Module):
    """The model's own top encoder layers and head, run on cached layer inputs.

    Holds references to the model's modules (not copies): training this trains the model.
    """

    def __init__(self, model, count: int) -> None:
        super().__init__()
        self.whisper = backbone.is_whisper(model)
        encoder = _encoder(model)
        self.layers = torch.nn.ModuleList(list(encoder.layers)[-count:])
        final_norm = self.whisper or getattr(model.config, "do_stable_layer_norm", False)
        self.final_norm = encoder.layer_norm if final_norm else torch.nn.Identity()
        self.projector = model.projector
        self.classifier = model.classifier
        self.config = model.config

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attention = None
        if not self.whisper and not bool(mask.all()):
            from transformers.masking_utils import create_bidirectional_mask

            attention = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=mask)
        for layer in self.layers:
            out = layer(hidden, attention_mask=attention)
            hidden = out[0] if isinstance(out, tuple) else out
        projected = self.projector(self.final_norm(hidden))
        weights = mask.to(projected.dtype).unsqueeze(-1)
        pooled = (projected * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.classifier(pooled)


def layer_inputs(model, layer_index: int, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """Run the model only up to encoder layer `layer_index` and return that layer's input."""
    def hook(_module, args, kwargs):
        raise _Captured(args[0] if args else kwargs["hidden_states"])

    handle = _encoder(model).layers[layer_index].register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model(**inputs)
    except _Captured as captured:
        return captured.hidden
    finally:
        handle.remove()
    raise ModelError("the backbone never reached its encoder layers")


class QuickTask:
    """Trains `TopLayers` on cached inputs; see the module docstring.

    Each training clip has variants (the original and speed-perturbed copies); every epoch
    picks one variant per clip, so augmentation costs cache time once, not time per epoch.
    """

    def __init__(self, module: TopLayers, train_variants: list[list[torch.Tensor]],
                 eval_cache: list[torch.Tensor], device: torch.device) -> None:
        self.module = module
        self._variants = train_variants
        self._eval = eval_cache
        self._choice = np.zeros(len(train_variants), dtype=int)
        self.device = device

    @classmethod
    def build(cls, run: TrainingRun, fingerprint: str) -> QuickTask:
        """Freeze all but the top layer(s) and compute (or read from the cache, keyed by
        `fingerprint`) their inputs for every eval clip and every variant of every training clip."""
        model, builder, data, settings = run.model, run.builder, run.data, run.settings
        check_quick_support(model)
        count = max(1, min(settings.quick_layers, len(_encoder(model).layers)))
        for param in model.parameters():
            param.requires_grad_(False)
        module = TopLayers(model, count)
        for param in module.parameters():
            param.requires_grad_(True)
        layer_index = len(_encoder(model).layers) - count
        folder = cache_home() / "quick" / fingerprint
        folder.mkdir(parents=True, exist_ok=True)
        factors = [f for f in settings.speed_perturbation if f != 1.0]
        window = builder.fixed_window
        waves = list(data.eval_waves) + list(data.train_waves)
        for factor in factors:
            for wave in data.train_waves:
                changed = audio.change_speed(wave, builder.rate, factor)
                waves.append(changed[: int(window * builder.rate)] if window else changed)
        cached = _cached_layer_inputs(run, waves, layer_index, folder)
        n_eval, n_train = len(data.eval_waves), len(data.train_waves)
        variants = [[cached[n_eval + v * n_train + i] for v in range(len(factors) + 1)] for i in range(n_train)]
        return cls(module, variants, cached[:n_eval], run.device)

    def param_groups(self, settings: TrainSettings) -> list[dict]:
        return split_head_params(self.module, settings)

    def train_batches(self, rng, batch_size):
        self._choice = rng.integers(0, len(self._variants[0]), size=len(self._variants))
        return length_buckets([len(self._train_row(i)) for i in range(len(self._variants))], batch_size, rng)

    def eval_batches(self, batch_size):
        return length_buckets([len(x) for x in self._eval], batch_size)

    def _train_row(self, index: int) -> torch.Tensor:
        return self._variants[index][self._choice[index]]

    def logits(self, indices, training):
        rows = [self._train_row(i) if training else self._eval[i] for i in indices]
        longest = max(len(r) for r in rows)
        hidden = torch.zeros(len(rows), longest, rows[0].shape[-1])
        mask = torch.zeros(len(rows), longest, dtype=torch.bool)
        for j, row in enumerate(rows):
            hidden[j, : len(row)] = row.float()
            mask[j, : len(row)] = True
        return self.module(hidden.to(self.device), mask.to(self.device))


def _content_key(wave: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(wave, dtype=np.float32).tobytes()).hexdigest()


def _cached_layer_inputs(run: TrainingRun, waves: list[np.ndarray], layer_index: int,
                         folder: Path) -> list[torch.Tensor]:
    """Layer inputs for every wave: from the disk cache, computing (and storing) what is missing.

    Clips that need no padding (fixed-window models) run in batches; the others one by one, so
    each clip's features are exactly what single-clip inference computes.
    """
    model, builder, device, cancel = run.model, run.builder, run.device, run.cancel
    keys = [_content_key(w) for w in waves]
    result: list[torch.Tensor | None] = [None] * len(waves)
    todo = []
    for i, key in enumerate(keys):
        path = folder / f"{key}.npy"
        if path.is_file():
            try:
                result[i] = torch.from_numpy(np.load(path))
                continue
            except (OSError, ValueError):
                pass  # a damaged cache entry is recomputed
        todo.append(i)
    batch = 16 if builder.fixed_window else 1
    model.eval()
    for start in range(0, len(todo), batch):
        if cancel.is_set():
            break
        chunk = todo[start:start + batch]
        run.progress.stage(Stage.CACHING_FEATURES, f"Computing backbone features {start}/{len(todo)}",
                           start, len(todo))
        inputs = {k: v.to(device) for k, v in builder.build([waves[i] for i in chunk]).items()}
        with torch.inference_mode(), backbone.autocast_for(device, run.settings.bf16):
            hidden = layer_inputs(model, layer_index, inputs).to("cpu", torch.float16)
        for i, row in zip(chunk, hidden):
            array = row.numpy()
            tmp = folder / f".{keys[i]}.{os.getpid()}.npy"
            np.save(tmp, array)
            os.replace(tmp, folder / f"{keys[i]}.npy")
            result[i] = torch.from_numpy(array)
    if cancel.is_set() and any(r is None for r in result):
        # Training cannot start without all features; the loop sees cancel and returns at once.
        return [r if r is not None else torch.zeros(1, 1, dtype=torch.float16) for r in result]
    run.progress.stage(Stage.CACHING_FEATURES, "Backbone features ready", len(todo), len(todo))
    return result  # type: ignore[return-value]
