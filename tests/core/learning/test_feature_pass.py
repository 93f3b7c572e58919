"""Quick mode's feature pass runs the frozen backbone in the fast format inference would use here, checked
against float32 and recorded beside the features, so that a cache folder never mixes formats."""

import copy
import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from intentdesk.core.learning import feature_pass as pass_module
from intentdesk.core.learning.feature_cache import FeatureSource, cached_features, module_input
from intentdesk.core.models import backbone
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.models.precision import choice


@pytest.fixture
def run(tiny_wav2vec2):
    model = backbone.load_classifier_model(str(tiny_wav2vec2), ["a", "b"]).eval()
    builder = InputBuilder(backbone.load_feature_extractor(str(tiny_wav2vec2)))
    data = SimpleNamespace(eval_waves=[], train_waves=[])
    return SimpleNamespace(model=model, builder=builder, device=torch.device("cpu"),
                           settings=SimpleNamespace(bf16=True), cancel=threading.Event(), data=data,
                           progress=SimpleNamespace(stage=lambda *args: None))


@pytest.fixture
def converted(monkeypatch):
    """A stand-in "bf16" format on any CPU: a copy of the model that the pass can be caught running, timed
    faster than float32 (the first model timed)."""
    made = []

    def convert(model):
        made.append(copy.deepcopy(model))
        return made[-1]

    timings = iter([2.0, 1.0])
    monkeypatch.setattr(choice, "candidates", lambda device: ["bf16"])
    monkeypatch.setitem(choice.CONVERTERS, "bf16", convert)
    monkeypatch.setattr(choice, "median_ms", lambda call, runs=3: (call(), next(timings))[1])
    return made


def _frames(seen):
    def mean_frames(model, inputs):
        seen.append(model)
        return [row.mean(0).numpy() for row in module_input(model, model.projector, inputs).float()]
    return mean_frames


def _sources():
    rng = np.random.default_rng(0)
    return [FeatureSource(f"clip{i}", lambda i=i: rng.standard_normal(8000 + 800 * i).astype(np.float32))
            for i in range(3)]


def test_features_come_from_the_converted_backbone_and_the_format_is_recorded(run, converted, tmp_path):
    seen = []
    features = cached_features(run, _sources(), tmp_path / "cache", _frames(seen))
    assert len(converted) == 1 and seen[-3:] == [converted[0]] * 3  # every clip through the converted copy
    assert json.loads((tmp_path / "cache" / pass_module.FORMAT_FILE).read_text()) == {"precision": "bf16"}
    assert len(features) == 3 and all(f.shape == (run.model.projector.in_features,) for f in features)


def test_a_recorded_format_is_taken_without_timing_again(run, converted, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / pass_module.FORMAT_FILE).write_text(json.dumps({"precision": "bf16"}))

    def no_timing(*_args, **_kwargs):
        raise AssertionError("a recorded format was timed again")

    monkeypatch.setattr(choice, "median_ms", no_timing)
    chosen = pass_module.feature_pass(run, folder, _frames([]))
    assert chosen.precision == "bf16" and chosen.model is converted[0]


def test_with_bf16_switched_off_the_pass_stays_in_float32(run, converted, tmp_path):
    run.settings.bf16 = False
    seen = []
    cached_features(run, _sources(), tmp_path / "cache", _frames(seen))
    assert converted == [] and all(model is run.model for model in seen)
    assert json.loads((tmp_path / "cache" / pass_module.FORMAT_FILE).read_text()) == {"precision": "fp32"}


def test_a_format_whose_features_drift_is_refused(run, monkeypatch, tmp_path):
    def drifting(model):
        fast = copy.deepcopy(model)
        with torch.no_grad():
            fast.wav2vec2.encoder.layer_norm.bias += 3.0  # every frame moves: the features no longer agree
        return fast

    monkeypatch.setattr(choice, "candidates", lambda device: ["bf16"])
    monkeypatch.setitem(choice.CONVERTERS, "bf16", drifting)
    choices = []
    monkeypatch.setattr(pass_module, "choose", lambda *args: choices.append(choice.choose(*args)) or choices[-1])
    chosen = pass_module.feature_pass(run, tmp_path / "cache", _frames([]))
    assert chosen.precision == "fp32" and chosen.model is run.model
    assert "differ from float32" in choices[0].rejected["bf16"]
