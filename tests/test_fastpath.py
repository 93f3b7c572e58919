"""The fast inference formats compute the same function as float32, and a failing one falls back."""

import copy

import numpy as np
import pytest
import torch

from intentdesk.core import backbone, fastpath
from intentdesk.core.inference import Classifier


@pytest.mark.parametrize("shape", [dict(in_channels=1, out_channels=8, kernel_size=10, stride=5),
                                   dict(in_channels=8, out_channels=8, kernel_size=3, stride=2),
                                   dict(in_channels=8, out_channels=8, kernel_size=16, padding=8, groups=4)])
def test_rewritten_convolutions_equal_conv1d(shape):
    """Same function as Conv1d on bf16-rounded weights and inputs, float32 in and out."""
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(**shape)
    x = torch.randn(2, shape["in_channels"], 400)
    fast = fastpath._fast_conv(conv)
    assert isinstance(fast, fastpath.WaveformConv1d) == (shape["in_channels"] == 1)
    with torch.no_grad():
        conv.weight.copy_(conv.weight.bfloat16().float())
        conv.bias.copy_(conv.bias.bfloat16().float())
        y = fast(x)
        assert y.dtype == torch.float32
        assert torch.allclose(y, conv(x.bfloat16().float()), atol=2e-2)


@pytest.mark.parametrize("fixture", ["tiny_wav2vec2", "tiny_whisper"])
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_forced_format_stays_close_to_float32(request, fixture, precision):
    if precision == "bf16" and not backbone.cpu_has_fast_bf16():
        pytest.skip("this CPU has no native bf16 (oneDNN's bf16 kernels need AVX512-BF16/AMX)")
    model_dir = request.getfixturevalue(fixture)
    exact = Classifier(model_dir, precision="fp32")
    fast = Classifier(model_dir, precision=precision)
    assert fast.precision == precision
    waves = fastpath.probe_waves(exact.rate)[::-1] + [np.zeros(8000, np.float32)]
    for wave in waves:
        assert np.abs(fast.scores([wave]) - exact.scores([wave])).max() <= fastpath.TOLERANCE


def test_a_drifting_format_is_rejected(tiny_wav2vec2, monkeypatch):
    def scrambled(model):
        fast = copy.deepcopy(model)
        fast.classifier.bias.data += 5 * torch.arange(fast.classifier.bias.numel())
        return fast

    monkeypatch.setitem(fastpath.CONVERTERS, "int8", scrambled)
    classifier = Classifier(tiny_wav2vec2, precision="int8")
    assert classifier.precision == "fp32"
    assert "differ from float32" in classifier.choice.rejected["int8"]


def test_a_format_failing_at_run_time_falls_back_to_float32(saved_classifier):
    classifier = Classifier(saved_classifier, precision="int8")  # int8 converts on any CPU
    exact = Classifier(saved_classifier, precision="fp32")

    def broken(**_inputs):
        raise RuntimeError("no kernel for this op")

    classifier.model.forward = broken
    wave = fastpath.probe_waves(classifier.rate)[0]
    assert np.allclose(classifier.scores([wave]), exact.scores([wave]), atol=1e-6)
    assert classifier.precision == "fp32"
    assert classifier.choice.rejected["int8"] == "failed at run time"


def test_the_auto_choice_is_remembered_per_model_and_machine(saved_classifier, tmp_path):
    import shutil

    first = Classifier(saved_classifier)
    again = Classifier(saved_classifier)
    assert not first.choice.remembered and again.choice.remembered
    assert again.precision == first.precision
    wave = fastpath.probe_waves(first.rate)[1]
    assert np.abs(again.scores([wave]) - first.scores([wave])).max() < 1e-6
    changed = tmp_path / "changed"
    shutil.copytree(saved_classifier, changed)
    assert not Classifier(changed).choice.remembered  # another folder (or changed files): a fresh choice
