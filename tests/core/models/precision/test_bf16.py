"""bf16's rewritten convolutions compute the same function as Conv1d."""

import pytest
import torch

from intentdesk.core.models.precision import bf16


@pytest.mark.parametrize("shape", [dict(in_channels=1, out_channels=8, kernel_size=10, stride=5),
                                   dict(in_channels=8, out_channels=8, kernel_size=3, stride=2),
                                   dict(in_channels=8, out_channels=8, kernel_size=16, padding=8, groups=4)])
def test_rewritten_convolutions_equal_conv1d(shape):
    """Same function as Conv1d on bf16-rounded weights and inputs, float32 in and out."""
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(**shape)
    x = torch.randn(2, shape["in_channels"], 400)
    fast = bf16.fast_conv(conv)
    assert isinstance(fast, bf16.WaveformConv1d) == (shape["in_channels"] == 1)
    with torch.no_grad():
        conv.weight.copy_(conv.weight.bfloat16().float())
        conv.bias.copy_(conv.bias.bfloat16().float())
        y = fast(x)
        assert y.dtype == torch.float32
        assert torch.allclose(y, conv(x.bfloat16().float()), atol=2e-2)
