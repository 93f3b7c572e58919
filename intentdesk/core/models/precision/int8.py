"""int8: Linear layers and window-product convolutions quantized dynamically (VNNI), for CPUs without fast bf16."""

from __future__ import annotations

import copy

import torch

from intentdesk.core.models.precision import ConvShape
from intentdesk.core.models.precision.frames_first import FramesFirstFeatureEncoder
from intentdesk.core.models.precision.quantize import int8_window_product, is_window_product, quantize_linears


class Int8Conv1d(ConvShape):
    """A Conv1d without padding, groups or dilation, as an int8 matrix product over its windows.

    Dynamic quantization leaves convolutions alone, yet Wav2Vec2's feature encoder (six
    512-channel convolutions after the first) was 56 of the int8 model's 125 ms for a 3 s clip
    on a CPU without AMX; as products of the unfolded windows with int8 weights (VNNI) it took
    32 ms. The first convolution (one input channel, a tiny product) is left as it is.
    """

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__(conv)
        # (out, in x kernel): unfold's order
        self.linear = int8_window_product(conv, conv.weight.detach().reshape(conv.out_channels, -1))

    @staticmethod
    def fits(conv: torch.nn.Conv1d) -> bool:
        return is_window_product(conv) and conv.in_channels > 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = x.unfold(2, self.kernel_size[0], self.stride[0])  # (batch, channels, frames, kernel)
        rows = windows.permute(0, 2, 1, 3).reshape(x.shape[0], windows.shape[2], -1)
        return self.linear(rows).transpose(1, 2)


def plain_conv(conv: torch.nn.Conv1d) -> torch.nn.Conv1d:
    """A parametrized Conv1d (Wav2Vec2's weight-normed positional convolution) with its weight
    computed once: inference would otherwise recompute it on every call (~2 ms per clip).

    A new module rather than `remove_parametrizations`: that deletes the property from the
    parametrized class, which a deep copy shares with the original model.
    """
    plain = torch.nn.Conv1d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                            conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode)
    with torch.no_grad():
        plain.weight.copy_(conv.weight)
        if conv.bias is not None:
            plain.bias.copy_(conv.bias)
    return plain


def to_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Linear layers, and convolutions that are plain products of windows (`Int8Conv1d`, or a whole
    Wav2Vec2-family feature encoder frames first: `FramesFirstFeatureEncoder`), quantized to int8 per call
    (dynamic); other convolutions stay float32."""
    from torch.nn.utils import parametrize

    fast = copy.deepcopy(model).eval()
    with torch.no_grad():
        for module in list(fast.modules()):
            for name, child in list(module.named_children()):
                if FramesFirstFeatureEncoder.fits(child):
                    setattr(module, name, FramesFirstFeatureEncoder(child))
        for module in list(fast.modules()):
            for name, child in list(module.named_children()):
                if not isinstance(child, torch.nn.Conv1d):
                    continue
                if Int8Conv1d.fits(child):
                    setattr(module, name, Int8Conv1d(child))
                elif parametrize.is_parametrized(child):
                    setattr(module, name, plain_conv(child))
    return quantize_linears(fast)  # `fast` is already a copy
