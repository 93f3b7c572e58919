"""int8's rewritten convolutions are the same window products, and weight norm is baked in."""

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
