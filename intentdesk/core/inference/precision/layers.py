"""What every converted model shares: rewritten convolutions keep the Conv1d's shape attributes
(`ConvShape`), and a model says which number format it takes its inputs in (`model_dtype`)."""

from __future__ import annotations

import torch


class ConvShape(torch.nn.Module):
    """Keeps the replaced Conv1d's shape attributes: models read them (Whisper checks strides)."""

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__()
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"):
            setattr(self, name, getattr(conv, name))


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype
    for buffer in model.buffers():
        if buffer.is_floating_point():
            return buffer.dtype
    return torch.float32
