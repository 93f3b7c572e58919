"""The feature pass and the training's random state: a run whose backbone features come from the
cache must train exactly like the same run computing them (same seed, same result)."""

import threading
from types import SimpleNamespace

import numpy as np
import torch

from intentdesk.core.learning.feature_cache import FeatureSource, cached_features


class _Builder:
    fixed_window = None
    rate = 16000

    def build(self, waves):
        return {"input_values": torch.from_numpy(np.stack(waves))}


def _run() -> SimpleNamespace:
    data = SimpleNamespace(eval_waves=[], train_waves=[np.zeros(4, np.float32)] * 2)
    return SimpleNamespace(model=torch.nn.Identity(), builder=_Builder(), device=torch.device("cpu"),
                           settings=SimpleNamespace(bf16=False), cancel=threading.Event(), data=data,
                           progress=SimpleNamespace(stage=lambda *args: None))


def test_computing_features_leaves_the_random_state_where_it_was(tmp_path):
    """Some backbones draw random numbers even in eval mode (transformers < 5.23: a LayerDrop draw
    per layer); the cache-miss pass must not shift the shuffles and initialisations that follow."""

    def compute(_model, inputs):  # a backbone that draws, as those do
        torch.rand([])
        return [row.numpy() for row in inputs["input_values"]]

    sources = [FeatureSource(f"clip{i}", lambda i=i: np.full(4, i, np.float32)) for i in range(2)]
    torch.manual_seed(0)
    features = cached_features(_run(), sources, tmp_path / "cache", compute)
    after_computing = torch.rand(3)
    torch.manual_seed(0)
    cached = cached_features(_run(), sources, tmp_path / "cache", compute)
    assert torch.equal(torch.rand(3), after_computing)
    assert all(torch.equal(a, b) for a, b in zip(features, cached))
