"""int8's feature encoder for the Wav2Vec2 family (Wav2Vec2, HuBERT, Data2Vec-Audio), computed frames first.

The feature encoder is seven convolutions over the raw wave; the first makes 512 channels of 9,599 frames
for a 3 s clip. transformers keeps them channels first, (batch, channels, frames), so each convolution
rewritten as an int8 product of windows (`int8.Int8Conv1d`) first gathers its windows across the channels:
40 ms of the second layer's 58 on an AVX2 CPU (Zen 3, 3 s clip), against 8 ms to copy the same windows
frames first, where a window is rows lying side by side (the layer: 45 ms). The whole encoder: 115 -> 98 ms.

Frames first, (batch, frames, channels), the window products read their windows in place. The first layer
(one input channel) makes the frames-first layout at no extra cost: with its per-channel GroupNorm it is one
product, since a channel's mean and variance over the clip follow from the mean and covariance of the wave's
windows (`kernel` numbers and `kernel` x `kernel`), so the norm folds into that clip's weights (`FirstLayer`;
10.6 ms against 9.7 for convolution, norm and activation channels first). The output is handed over as the
(batch, channels, frames) view the model reads. `choice.choose` checks the whole int8 model against float32
as before (BENCHMARKS.md 18).
"""

from __future__ import annotations

import torch

from intentdesk.core.models.precision.quantize import int8_window_product, is_window_product


def _channel_norm(norm: torch.nn.Module | None, channels: int) -> bool:
    """A LayerNorm over the channels (each frame normalised), which frames first computes as it is."""
    return norm is None or (isinstance(norm, torch.nn.LayerNorm) and tuple(norm.normalized_shape) == (channels,))


def _instance_norm(norm: torch.nn.Module | None, channels: int) -> bool:
    """A GroupNorm with one channel per group (each channel normalised over the clip), as Wav2Vec2-base's first
    layer has."""
    return (isinstance(norm, torch.nn.GroupNorm) and norm.num_groups == norm.num_channels == channels
            and norm.affine)


class FirstLayer(torch.nn.Module):
    """The one-channel first convolution, its norm and activation, as one product of the wave's windows."""

    def __init__(self, layer: torch.nn.Module) -> None:
        super().__init__()
        conv = layer.conv
        self.kernel, self.stride = conv.kernel_size[0], conv.stride[0]
        self.register_buffer("weight", conv.weight.detach()[:, 0].T.contiguous())  # (kernel, out)
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros(conv.out_channels)
        self.register_buffer("bias", bias.clone())
        self.norm = getattr(layer, "layer_norm", None)
        self.activation = layer.activation

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        windows = wave.unfold(1, self.kernel, self.stride)  # (batch, frames, kernel), a view
        if isinstance(self.norm, torch.nn.GroupNorm):
            weight, bias = self._normed(windows)
            return self.activation(torch.baddbmm(bias, windows, weight))
        frames = windows @ self.weight + self.bias
        return self.activation(frames if self.norm is None else self.norm(frames))

    def _normed(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per clip, the weights (batch, kernel, out) and bias (batch, 1, out) that compute the convolution
        already normalised: channel c is windows @ w_c + b_c, so over the clip its mean is m @ w_c + b_c and
        its variance w_c' S w_c, with m and S the windows' mean and (biased) covariance (float64: small)."""
        x = windows.double()
        mean = x.mean(1)  # (batch, kernel)
        centred = x - mean[:, None]
        covariance = centred.transpose(1, 2) @ centred / x.shape[1]  # (batch, kernel, kernel)
        weight, bias = self.weight.double(), self.bias.double()
        channel_mean = mean @ weight + bias  # (batch, out)
        channel_var = ((covariance @ weight) * weight).sum(1)  # (batch, out)
        gain = self.norm.weight.double() / torch.sqrt(channel_var + self.norm.eps)
        folded_bias = (bias - channel_mean) * gain + self.norm.bias.double()
        return (weight[None] * gain[:, None]).to(windows.dtype), folded_bias[:, None].to(windows.dtype)


class WindowLayer(torch.nn.Module):
    """A later convolution as an int8 product of frames-first windows, then its norm (over the channels,
    if any) and activation."""

    def __init__(self, layer: torch.nn.Module) -> None:
        super().__init__()
        conv = layer.conv
        self.kernel, self.stride = conv.kernel_size[0], conv.stride[0]
        # (out, kernel x in): a frames-first window is `kernel` frames of all channels
        self.linear = int8_window_product(conv, conv.weight.detach().permute(0, 2, 1).reshape(conv.out_channels, -1))
        self.norm = getattr(layer, "layer_norm", None)
        self.activation = layer.activation

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        frames = frames.contiguous()
        batch, length, channels = frames.shape
        count = (length - self.kernel) // self.stride + 1
        windows = frames.as_strided((batch, count, self.kernel * channels),
                                    (frames.stride(0), self.stride * channels, 1))
        out = self.linear(windows)
        return self.activation(out if self.norm is None else self.norm(out))


class FramesFirstFeatureEncoder(torch.nn.Module):
    """A Wav2Vec2-family feature encoder (`fits`) computed frames first; same input and output."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        first, *rest = encoder.conv_layers
        self.first = FirstLayer(first)
        self.rest = torch.nn.ModuleList(WindowLayer(layer) for layer in rest)

    @staticmethod
    def fits(module: torch.nn.Module) -> bool:
        """Whether `module` is a feature encoder of plain convolutions (no padding, groups or dilation), the
        first on one channel, each with an activation and at most a norm this computes frames first."""
        layers = getattr(module, "conv_layers", None)
        if not type(module).__name__.endswith("FeatureEncoder") or not isinstance(layers, torch.nn.ModuleList) \
                or not layers:
            return False
        for index, layer in enumerate(layers):
            conv, norm = getattr(layer, "conv", None), getattr(layer, "layer_norm", None)
            if not is_window_product(conv) or not callable(getattr(layer, "activation", None)):
                return False
            if not (_channel_norm(norm, conv.out_channels) or (index == 0 and _instance_norm(norm, conv.out_channels))):
                return False
        return layers[0].conv.in_channels == 1

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        frames = self.first(input_values)
        for layer in self.rest:
            frames = layer(frames)
        return frames.transpose(1, 2)  # (batch, channels, frames), as the model reads it
