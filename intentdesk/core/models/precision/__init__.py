"""Fast CPU inference: the same trained model, run in a cheaper number format chosen per machine.

On a 2-core CPU the transformers pipeline runs Wav2Vec2 in float32 at about 100-250 GFLOP/s.
CPUs with AMX do bfloat16 matrix products several times faster, when the work reaches oneDNN
in a shape it likes (`bf16`). CPUs without fast bf16 get int8 dynamic quantization (VNNI) of the
Linear layers and of the convolutions that are plain window products (`int8`). Which one wins
depends on the machine: with AMX, bf16; with AVX512-BF16 alone, bf16 ran slower than float32 and
int8 won. `choice.choose` times the candidates on a probe clip and keeps the fastest whose scores
stay within `TOLERANCE` of float32 on probe clips; anything that fails falls back to float32.

Adding a precision (say "fp16"):
1. write `precision/fp16.py` with `to_fp16(model) -> model`, a converted copy (never change the
   original; `ConvShape` below helps when rewriting convolutions);
2. register it in `choice.CONVERTERS` and, if it is worth trying unasked on some machines, in
   `choice.candidates`;
3. add its name to `PRECISIONS` in `core/models/__init__.py` (the CLI's `--precision` choices),
   raise `choice.CHECK_VERSION` if the check changed, and add a plain-words label for it in the
   Classify tab's model panel (`gui/classify/model_panel.py`).
`choose` then checks it against float32 like the others; tests in tests/core/models/precision/.

What every converted model shares lives here: rewritten convolutions keep the Conv1d's shape
attributes (`ConvShape`), and a model says which number format it takes its inputs in (`model_dtype`,
`inputs_for`).
"""

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


def inputs_for(model: torch.nn.Module, inputs: dict[str, torch.Tensor],
               device: torch.device) -> dict[str, torch.Tensor]:
    """`inputs` on `device`, their floating-point tensors in the number format `model` takes."""
    dtype = model_dtype(model)
    return {k: v.to(device, dtype) if v.is_floating_point() else v.to(device) for k, v in inputs.items()}
