"""Quick mode: the backbone is frozen, runs once per clip, and only the top of the model is trained.

What the frozen part produces is cached on disk (`feature_cache`), so epochs never run the
backbone and a second run with the same clips and backbone skips it entirely. Two tasks:

- `PooledTask` (`quick_layers` 0, the default): only the model's own head (projector and
  classifier) on the clip's time-averaged backbone output. Hugging Face audio heads are linear
  (projector -> mean over time -> classifier), so the average can be cached instead of the
  frames: an epoch takes milliseconds. On the dev corpus's own voices (4-fold leave-two-voices-out)
  it was as good as training the top layer (BENCHMARKS.md 9), on voices from other speech engines
  it is not: 0.955 / 0.939 against 0.985 / 0.993 with the top layer (BENCHMARKS.md 13).
- `QuickTask` (`quick_layers` 1-4): the model's top encoder layer(s) and head on the cached inputs
  of those layers; minutes instead of seconds (and few passes learn little from few clips).

Either way the trained parts are the model's own, so the saved folder is a standard checkpoint
that `pipeline("audio-classification")` runs unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

from intentdesk.core.errors import ModelError
from intentdesk.core.learning.feature_cache import cached_features, clip_sources, module_input, split_variants
from intentdesk.core.learning.pooled import PooledTask, check_pooled_support
from intentdesk.core.learning.prepared import TrainingRun
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


def check_quick_support(model, layers: int) -> None:
    """Raise ModelError unless quick mode with `layers` trained top layers works on this model."""
    if layers == 0:
        check_pooled_support(model)
        return
    kind = model.config.model_type
    if not (backbone.is_whisper(model) or kind in WAV2VEC2_FAMILY):
        raise ModelError(f"Quick mode supports Whisper, Wav2Vec2, HuBERT and Data2Vec-Audio backbones, "
                         f"not {kind}; use Full mode for this model")
    if getattr(model.config, "use_weighted_layer_sum", False):
        raise ModelError("Quick mode needs a model without use_weighted_layer_sum; use Full mode")


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


class QuickTask:
    """Trains `TopLayers` on cached layer inputs; see the module docstring.

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
        check_quick_support(model, settings.quick_layers)
        count = max(1, min(settings.quick_layers, len(_encoder(model).layers)))
        for param in model.parameters():
            param.requires_grad_(False)
        module = TopLayers(model, count)
        for param in module.parameters():
            param.requires_grad_(True)
        first = len(_encoder(model).layers) - count
        sources, variants = clip_sources(run, builder.fixed_window)

        def layer_inputs(backbone_model, inputs):  # `model` itself, or a copy in the feature pass's format
            layer = _encoder(backbone_model).layers[first]
            return [row.numpy() for row in module_input(backbone_model, layer, inputs).to("cpu", torch.float16)]

        features = cached_features(run, sources, cache_home() / "quick" / fingerprint, layer_inputs)
        eval_cache, train_variants = split_variants(features, len(data.eval_waves), len(data.train_waves), variants)
        return cls(module, train_variants, eval_cache, run.device)

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

    def apply(self, state: dict) -> None:
        self.module.load_state_dict(state)

    def learn_from_all(self, run: TrainingRun, chosen: dict) -> None:
        """No final pass: training the top layers again on every clip would double the run."""
        return None


def build_quick_task(run: TrainingRun, fingerprint: str) -> PooledTask | QuickTask:
    """The quick task `run.settings.quick_layers` asks for: 0 the pooled head, else the top layers."""
    if run.settings.quick_layers == 0:
        return PooledTask.build(run, fingerprint)
    return QuickTask.build(run, fingerprint)
