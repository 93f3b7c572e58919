"""Dynamic int8 quantization of Linear layers, the step every int8 rewrite shares, and the convolutions
that are plain products of windows, which int8 rewrites as such (`int8.Int8Conv1d`,
`frames_first.WindowLayer`)."""

from __future__ import annotations

import warnings

import torch


def quantize_linears(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its Linear layers dynamically quantized to int8, in place (torch's
    deprecation warnings about the quantization API silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def is_window_product(conv: torch.nn.Module) -> bool:
    """A Conv1d without padding, groups or dilation: each output frame is one product of a window."""
    return (isinstance(conv, torch.nn.Conv1d) and conv.padding == (0,) and conv.dilation == (1,)
            and conv.groups == 1 and conv.padding_mode == "zeros")


def int8_window_product(conv: torch.nn.Conv1d, weight: torch.Tensor) -> torch.nn.Module:
    """`conv` as a dynamically quantized Linear over its windows; `weight` is its weight laid out as
    (out, window) in the order the caller's windows are read."""
    linear = torch.nn.Linear(weight.shape[1], conv.out_channels, bias=conv.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return quantize_linears(torch.nn.Sequential(linear))[0]
