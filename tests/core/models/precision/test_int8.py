"""int8's rewritten convolutions are the same window products, and weight norm is baked in."""

import pytest
import torch

from intentdesk.core.models.precision import int8


def test_int8_convolution_is_the_same_window_product():
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(16, 32, kernel_size=3, stride=2)
    assert int8.Int8Conv1d.fits(conv) and not int8.Int8Conv1d.fits(torch.nn.Conv1d(1, 8, 10, 5))
    assert not int8.Int8Conv1d.fits(torch.nn.Conv1d(16, 16, 3, padding=1))
    x = torch.randn(2, 16, 301)
    with torch.no_grad():
        exact, fast = conv(x), int8.Int8Conv1d(conv)(x)
    assert fast.shape == exact.shape == (2, 32, 150)
    assert (fast - exact).abs().max() <= 0.02 * exact.abs().max()  # int8 rounding, nothing else


def test_int8_model_bakes_weight_norm_into_a_plain_convolution():
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import weight_norm

    torch.manual_seed(0)
    model = torch.nn.Sequential(weight_norm(torch.nn.Conv1d(8, 8, 5, padding=2), dim=2))
    fast = int8.to_int8(model)
    assert not any(parametrize.is_parametrized(m) for m in fast.modules())
    assert parametrize.is_parametrized(model[0])  # the original is untouched
    x = torch.randn(1, 8, 50)
    with torch.no_grad():
        assert torch.allclose(fast(x), model(x), atol=1e-6)


def _feature_encoder(norm: str, conv_bias: bool):
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                            conv_dim=(24, 24, 24), conv_kernel=(10, 3, 2), conv_stride=(5, 2, 2),
                            feat_extract_norm=norm, conv_bias=conv_bias)
    model = Wav2Vec2Model(config).eval()
    with torch.no_grad():  # norms away from their identity start, so that folding them in is tested
        for module in model.feature_extractor.modules():
            if isinstance(module, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return model


@pytest.mark.parametrize(("norm", "conv_bias"), [("group", False), ("group", True), ("layer", True)])
def test_frames_first_feature_encoder_computes_the_same_features(norm, conv_bias):
    """Wav2Vec2's feature encoder frames first: the first layer (its GroupNorm folded into the product)
    equals float32's to rounding (each clip of a batch normalised on its own), the whole encoder to int8
    rounding."""
    from intentdesk.core.models.precision.frames_first import FramesFirstFeatureEncoder

    encoder = _feature_encoder(norm, conv_bias).feature_extractor
    assert FramesFirstFeatureEncoder.fits(encoder)
    fast = FramesFirstFeatureEncoder(encoder)
    waves = torch.randn(2, 4000) * torch.tensor([[0.1], [0.7]]) + torch.tensor([[0.0], [0.2]])
    with torch.no_grad():
        first = encoder.conv_layers[0](waves[:, None])
        assert torch.allclose(fast.first(waves).transpose(1, 2), first, atol=1e-4)
        exact, frames_first = encoder(waves), fast(waves)
        assert frames_first.shape == exact.shape
        assert (frames_first - exact).abs().max() <= 0.05 * exact.abs().max()
        alone = fast.first(waves[1:])
        assert torch.allclose(alone, fast.first(waves)[1:], atol=1e-6)  # each clip normalised on its own


def test_int8_rewrites_only_feature_encoders_it_can_compute_frames_first():
    from intentdesk.core.models.precision.frames_first import FramesFirstFeatureEncoder

    model = _feature_encoder("group", False)
    encoder = model.feature_extractor
    fast = int8.to_int8(model)
    assert isinstance(fast.feature_extractor, FramesFirstFeatureEncoder)
    assert not isinstance(model.feature_extractor, FramesFirstFeatureEncoder)  # the original is untouched
    assert not FramesFirstFeatureEncoder.fits(torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3)))
    padded = _feature_encoder("group", False).feature_extractor
    padded.conv_layers[1].conv.padding = (1,)
    assert not FramesFirstFeatureEncoder.fits(padded)
    grouped_later = _feature_encoder("group", False).feature_extractor
    grouped_later.conv_layers[1].layer_norm = torch.nn.GroupNorm(24, 24)
    assert not FramesFirstFeatureEncoder.fits(grouped_later)
    assert FramesFirstFeatureEncoder.fits(encoder)
