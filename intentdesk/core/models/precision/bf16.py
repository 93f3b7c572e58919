"""bfloat16: weights converted once, Linears pre-packed for oneDNN, Conv1d rewritten for oneDNN's AMX path.

Plain `torch.autocast` keeps casting weights on every call and runs 1-D convolutions through a
slow path, so it gains only ~1.4x. Here the weights are converted once, every Linear keeps its
weights pre-packed in oneDNN's blocked layout (bit-identical results, ~1.7x faster than re-packing
them on every call), and every `Conv1d` is rewritten as the equivalent channels-last `conv2d` (or,
for the raw-waveform convolution with one input channel, a matrix product), which oneDNN runs on
AMX. Norms, softmax and the residual stream stay float32 (see `to_bf16`).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from intentdesk.core.models.precision import ConvShape

HEAD_NAMES = {"projector", "classifier"}  # Linears whose bf16 output goes back to float32 (the scores)


class ChannelsLastConv1d(ConvShape):
    """A Conv1d computed as a channels-last conv2d: oneDNN's fast (AMX) path for bf16."""

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__(conv)
        weight = conv.weight.detach().unsqueeze(2).to(torch.bfloat16, memory_format=torch.channels_last)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.unsqueeze(2).to(self.weight.dtype, memory_format=torch.channels_last)
        y = F.conv2d(x2, self.weight, self.bias, (1, self.stride[0]), (0, self.padding[0]), (1, self.dilation[0]),
                     self.groups)
        return y.squeeze(2).to(x.dtype)


class WaveformConv1d(ConvShape):
    """The first convolution over raw audio (one input channel) as one matrix product.

    oneDNN handles a single input channel badly (~20 ms for 3 s of audio in bf16); as a
    product of the (out, kernel) weights with strided windows of the wave it takes ~1 ms.
    """

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__(conv)
        weight = conv.weight.detach().reshape(conv.out_channels, conv.kernel_size[0]).to(torch.bfloat16)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().to(torch.bfloat16)[:, None])

    @staticmethod
    def fits(conv: torch.nn.Conv1d) -> bool:
        return conv.in_channels == 1 and conv.groups == 1 and conv.padding == (0,) and conv.dilation == (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = x[:, 0].unfold(-1, self.kernel_size[0], self.stride[0]).transpose(1, 2)  # (batch, kernel, frames)
        y = self.weight @ windows.to(self.weight.dtype)
        return (y if self.bias is None else y + self.bias).to(x.dtype)


class PackedLinear(torch.nn.Module):
    """A bf16 Linear whose weights oneDNN packed once (`torch.ops.mkldnn`, as inductor does)."""

    def __init__(self, linear: torch.nn.Linear, float_out: bool) -> None:
        super().__init__()
        self.float_out = float_out
        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach().to(torch.bfloat16)
        self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(weight, 128))
        bias = None if linear.bias is None else linear.bias.detach().to(torch.bfloat16)
        self.register_buffer("bias", bias)

    @staticmethod
    def available() -> bool:
        return hasattr(torch.ops.mkldnn, "_reorder_linear_weight") and torch.backends.mkldnn.is_available()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.mkldnn._linear_pointwise(x.to(torch.bfloat16), self.packed, self.bias, "none", [], "")
        return y.to(x.dtype) if self.float_out else y


def fast_conv(conv: torch.nn.Conv1d) -> torch.nn.Module:
    if WaveformConv1d.fits(conv):
        return WaveformConv1d(conv)
    return ChannelsLastConv1d(conv)


def to_bf16(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` whose matrix products and convolutions run in bf16 (see module doc).

    Everything else (norms, softmax, the residual stream) stays float32: with the residual
    stream in bf16 too, a Whisper model's scores drifted by up to 0.040 from float32 on
    held-out clips, against 0.028 this way, for a few ms. The exception is a convolutional
    feature encoder over raw audio (Wav2Vec2 and kin), which runs wholly in bf16: its norms
    and activations over ~10,000 frames would otherwise cost more than its convolutions.
    """
    fast = copy.deepcopy(model).eval()
    for encoder in waveform_encoders(fast):
        encoder.to(torch.bfloat16)
        encoder.register_forward_pre_hook(lambda _m, args: tuple(a.to(torch.bfloat16) for a in args))
        encoder.register_forward_hook(lambda _m, _args, out: out.float())
    pack = PackedLinear.available()
    with torch.no_grad():
        for module in list(fast.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Conv1d) and child.padding_mode == "zeros":
                    setattr(module, name, fast_conv(child))
                elif pack and type(child) is torch.nn.Linear:
                    setattr(module, name, PackedLinear(child, float_out=name in HEAD_NAMES))
    return fast


def waveform_encoders(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Convolutional feature encoders that read raw audio (`feature_extractor` in Wav2Vec2,
    HuBERT, WavLM, Data2Vec-Audio): their first convolution has a single input channel."""
    found = []
    for name, module in model.named_modules():
        convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv1d)]
        if name.split(".")[-1] == "feature_extractor" and convs and convs[0].in_channels == 1:
            found.append(module)
    return found
