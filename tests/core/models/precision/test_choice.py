"""The chosen fast format scores like float32; a drifting or failing one is refused or falls back; it is remembered."""

import copy

import numpy as np
import pytest
import torch

from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.models import backbone
from intentdesk.core.models.precision import choice


@pytest.mark.parametrize("fixture", ["saved_classifier", "saved_whisper_classifier"])
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_forced_format_stays_close_to_float32(request, fixture, precision):
    if precision == "bf16" and not backbone.cpu_has_bf16():
        pytest.skip("this CPU has no bf16 kernels (oneDNN's need AVX512-BF16 or AMX)")
    model_dir = request.getfixturevalue(fixture)
    exact = Classifier(model_dir, precision="fp32")
    fast = Classifier(model_dir, precision=precision)
    assert fast.precision == precision
    waves = choice.probe_waves(exact.rate)[::-1] + [np.zeros(8000, np.float32)]
    for wave in waves:
        assert np.abs(fast.sound.scores([wave]) - exact.sound.scores([wave])).max() <= choice.TOLERANCE


def test_a_drifting_format_is_rejected(saved_classifier, monkeypatch):
    def scrambled(model):
        fast = copy.deepcopy(model)
        fast.classifier.bias.data += 5 * torch.arange(fast.classifier.bias.numel())
        return fast

    monkeypatch.setitem(choice.CONVERTERS, "int8", scrambled)
    classifier = Classifier(saved_classifier, precision="int8")
    assert classifier.precision == "fp32"
    assert "differ from float32" in classifier.sound.choice.rejected["int8"]


def test_a_format_failing_at_run_time_falls_back_to_float32(saved_classifier):
    classifier = Classifier(saved_classifier, precision="int8")  # int8 converts on any CPU
    exact = Classifier(saved_classifier, precision="fp32")

    def broken(**_inputs):
        raise RuntimeError("no kernel for this op")

    classifier.sound.model.forward = broken
    wave = choice.probe_waves(classifier.rate)[0]
    assert np.allclose(classifier.sound.scores([wave]), exact.sound.scores([wave]), atol=1e-6)
    assert classifier.precision == "fp32"
    assert classifier.sound.choice.rejected["int8"] == "failed at run time"


def test_the_auto_choice_is_remembered_per_model_and_machine(saved_classifier, tmp_path):
    import shutil

    first = Classifier(saved_classifier)
    again = Classifier(saved_classifier)
    assert not first.sound.choice.remembered and again.sound.choice.remembered
    assert again.precision == first.precision
    wave = choice.probe_waves(first.rate)[1]
    assert np.abs(again.sound.scores([wave]) - first.sound.scores([wave])).max() < 1e-6
    changed = tmp_path / "changed"
    shutil.copytree(saved_classifier, changed)
    assert not Classifier(changed).sound.choice.remembered  # another folder (or changed files): a fresh choice


def test_a_format_drifting_only_on_speech_is_rejected(saved_classifier, monkeypatch):
    """Tones alone once let a drifting int8 model through; the spoken probes must catch it."""
    speech = choice.speech_probes(16000)
    assert len(speech) == 4 and all(2.5 < len(w) / 16000 < 4.5 for w in speech)
    speech_lengths = {len(w) for w in speech}

    class DriftsOnSpeech(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_values, **kwargs):
            out = self.model(input_values=input_values, **kwargs)
            if input_values.shape[-1] in speech_lengths:
                out.logits = out.logits + 5 * torch.arange(out.logits.shape[-1])
            return out

    monkeypatch.setitem(choice.CONVERTERS, "int8", lambda model: DriftsOnSpeech(copy.deepcopy(model)))
    classifier = Classifier(saved_classifier, precision="int8")
    assert classifier.precision == "fp32"
    assert "differ from float32" in classifier.sound.choice.rejected["int8"]


def test_without_speech_probes_auto_stays_float32(saved_classifier, monkeypatch):
    monkeypatch.setattr(choice, "speech_probes", lambda rate: [])
    classifier = Classifier(saved_classifier)
    assert classifier.precision == "fp32" and not classifier.sound.choice.remembered
    assert all("speech probes" in why for why in classifier.sound.choice.rejected.values())
