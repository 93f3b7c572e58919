"""Dynamic int8 quantization of Linear layers, the step every int8 rewrite shares."""

from __future__ import annotations

import warnings

import torch


def quantize_linears(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its Linear layers dynamically quantized to int8, in place (torch's
    deprecation warnings about the quantization API silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
