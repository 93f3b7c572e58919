"""Quick mode's default task: the model's own head trained on the time-averaged backbone output.

Hugging Face audio-classification heads (Whisper, Wav2Vec2, HuBERT, WavLM, Data2Vec...) compute
`classifier(mean over time(projector(hidden)))`, and a linear projector commutes with the mean:
`mean(projector(h)) = projector(mean(h))`. So one vector per clip (the mean of the frames the
head sees) is all the head ever needs: the backbone runs once per clip, the vectors are cached,
and an epoch is a few hundred small matrix products.

The head learns on standardised vectors (a linear probe on raw features learned poorly: 0.94
against 0.97 on unseen voices, dev corpus, 4 folds), and the standardisation is folded into the
projector's weights when the best weights are applied, so the saved model computes exactly
what was trained, with no extra layer.

Each training clip is heard once more, at one of the settings' speeds (0.9x or 1.1x, picked by the
clip: `feature_cache.one_speed`), and that copy gives it four vectors to learn from besides its own:
the original moved -2, -1, 1 (the copy itself) and 2 times as far as the copy moved it
(`with_spread_copies`). The moves against the copy's direction stand in for the other speed, which is
not heard. Measured on voices the training never heard, 5 seeds each (BENCHMARKS.md 18), against
hearing every clip at both speeds with a stretched copy of each (the feature pass heard 2.6 sounds
per clip, now 1.8): 0.957 -> 0.956 and 0.950 -> 0.961 on the two test sets, 0.983 -> 0.983 and
0.966 -> 0.960 on the two validation sets: level, for 30 % less listening.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from intentdesk.core.errors import ModelError
from intentdesk.core.events import Stage
from intentdesk.core.learning.feature_cache import cached_features, clip_sources, module_input, split_variants
from intentdesk.core.learning.loop import train_epochs
from intentdesk.core.learning.prepared import TrainingRun
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.task import split_head_params
from intentdesk.paths import cache_home

SPREAD = (2.0, -1.0, -2.0)  # where a speed copy's extra vectors lie: this many times its move from the original


def check_pooled_support(model) -> None:
    """Raise ModelError unless the model's head is projector -> mean over time -> classifier."""
    projector, classifier = getattr(model, "projector", None), getattr(model, "classifier", None)
    if not (isinstance(projector, torch.nn.Linear) and isinstance(classifier, torch.nn.Linear)):
        raise ModelError(f"Quick mode needs a model whose head is a projector and a classifier; "
                         f"{model.config.model_type} has another head: use Full mode for this model")
    if getattr(model.config, "use_weighted_layer_sum", False):
        raise ModelError("Quick mode needs a model without use_weighted_layer_sum; use Full mode")


def with_spread_copies(copies: list[torch.Tensor]) -> list[torch.Tensor]:
    """A clip's vectors (the original first, then its speed copies) and, for each speed copy, the
    original moved each `SPREAD` times as far as that copy moved it: more spread to learn from, for
    nothing (see the module's docstring)."""
    original = copies[0]
    return [*copies, *(original + step * (copy - original) for copy in copies[1:] for step in SPREAD)]


class PooledHead(torch.nn.Module):
    """`classifier(projector((x - mean) / scale))` on pooled vectors `x`.

    `projector` is a working copy that learns in standardised units; `classifier` is the model's
    own. `apply_to(model)` writes the projector back with the standardisation folded in.
    """

    def __init__(self, model, mean: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        source = model.projector
        self.projector = torch.nn.Linear(source.in_features, source.out_features)
        self.projector.to(source.weight.device)
        self.classifier = model.classifier
        self.register_buffer("mean", mean.to(source.weight.device))
        self.register_buffer("scale", scale.to(source.weight.device))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.projector((pooled - self.mean) / self.scale))

    @torch.no_grad()
    def apply_to(self, model) -> None:
        """Give `model.projector` the weights that compute this head on raw (unstandardised) input."""
        weight = self.projector.weight / self.scale
        model.projector.weight.copy_(weight)
        model.projector.bias.copy_(self.projector.bias - weight @ self.mean)


class PooledTask:
    """Trains `PooledHead` on cached pooled vectors; each epoch picks one variant per clip (the original,
    its speed copy or one of that copy's spread copies)."""

    def __init__(self, model, module: PooledHead, train_variants: torch.Tensor, eval_vectors: torch.Tensor,
                 device: torch.device) -> None:
        """`train_variants`: (training clips, variants, width); `eval_vectors`: (eval clips, width)."""
        self.model = model
        self.module = module
        self._variants = train_variants
        self._eval = eval_vectors
        self._choice = np.zeros(len(train_variants), dtype=int)
        self.device = device
        self._initial = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @classmethod
    def build(cls, run: TrainingRun, fingerprint: str) -> PooledTask:
        """Freeze the model and compute (or read from the cache, keyed by `fingerprint`) the pooled
        vector of every eval clip and every variant of every training clip."""
        model, data = run.model, run.data
        check_pooled_support(model)
        for param in model.parameters():
            param.requires_grad_(False)
        sources, variants = clip_sources(run, run.builder.fixed_window, every_speed=False)

        def mean_frames(backbone_model, inputs):  # `model` itself, or a copy in the feature pass's format
            frames = module_input(backbone_model, backbone_model.projector, inputs).float()
            return [row.mean(0).cpu().numpy() for row in frames]

        vectors = cached_features(run, sources, cache_home() / "pooled" / fingerprint, mean_frames)
        if run.cancel.is_set():
            vectors = [torch.zeros(model.projector.in_features) for _ in vectors]
        eval_vectors, train_variants = split_variants(vectors, len(data.eval_waves), len(data.train_waves), variants)
        train_variants = [with_spread_copies(copies) for copies in train_variants]
        every = torch.stack(vectors[len(data.eval_waves):])  # the training clips and their variants
        module = PooledHead(model, every.mean(0), every.std(0).clamp(min=1e-5) if len(every) > 1
                            else torch.ones(every.shape[-1]))
        for param in module.parameters():  # the working projector and the model's own classifier
            param.requires_grad_(True)
        return cls(model, module, torch.stack([torch.stack(v) for v in train_variants]),
                   torch.stack(eval_vectors), run.device)

    def param_groups(self, settings: TrainSettings) -> list[dict]:
        return split_head_params(self.module, settings)

    def train_batches(self, rng, batch_size):
        count = len(self._variants)
        self._choice = rng.integers(0, self._variants.shape[1], size=count) if count else self._choice
        order = rng.permutation(count)
        return [[int(i) for i in order[j:j + batch_size]] for j in range(0, count, batch_size)]

    def eval_batches(self, batch_size):
        return [list(range(j, min(j + batch_size, len(self._eval)))) for j in range(0, len(self._eval), batch_size)]

    def logits(self, indices, training):
        index = torch.as_tensor(indices)
        rows = self._variants[index, torch.as_tensor(self._choice[indices])] if training else self._eval[index]
        return self.module(rows.to(self.device))

    def apply(self, state: dict) -> None:
        """Load the best weights and write them into the model (standardisation folded in)."""
        self.module.load_state_dict(state)
        self.module.apply_to(self.model)

    def learn_from_all(self, run: TrainingRun, chosen: dict) -> bool:
        """The same training again, from the same start, on the training and eval clips together,
        written into the model; `chosen` (the weights the eval split picked) stays in the model
        when cancelled. Returns whether it ran to the end.

        Why: the eval split is a fifth of the clips, and more voices and wordings to learn from
        matter more than anything else for unseen voices (0.960 -> 0.980 on the dev corpus, 4
        folds, script run by hand). Eval clips take part with their original only (their speed
        variants were never computed).
        """
        run.progress.stage(Stage.TRAINING, f"Learning from all {len(run.data.train_y) + len(run.data.eval_y)} "
                                            "clips (the test clips too) for the saved model")
        every = torch.cat([self._variants, self._eval.unsqueeze(1).expand(-1, self._variants.shape[1], -1)])
        labels = torch.cat([run.data.train_y, run.data.eval_y])
        both = PooledTask(self.model, self.module, every, self._eval[:0], self.device)
        self.module.load_state_dict(self._initial)
        done = train_epochs(replace(run, data=replace(run.data, train_y=labels)), both, Stage.TRAINING)
        if not done:
            self.module.load_state_dict(chosen)
        self.module.apply_to(self.model)
        return done
