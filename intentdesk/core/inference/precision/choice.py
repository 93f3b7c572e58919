"""Fast CPU inference: the same trained model, run in a cheaper number format chosen per machine.

On a 2-core CPU the transformers pipeline runs Wav2Vec2 in float32 at about 100-250 GFLOP/s.
CPUs with AMX do bfloat16 matrix products several times faster, but only when
the work reaches oneDNN in a shape it likes: plain `torch.autocast` keeps casting weights on
every call and runs 1-D convolutions through a slow path, so it gains only ~1.4x. Here the
weights are converted once, every Linear keeps its weights pre-packed in oneDNN's blocked
layout (bit-identical results, ~1.7x faster than re-packing them on every call), and every
`Conv1d` is rewritten as the equivalent channels-last `conv2d` (or, for the raw-waveform
convolution with one input channel, a matrix product), which oneDNN runs on AMX. Norms, softmax
and the residual stream stay float32 (see `to_bf16`). CPUs without fast bf16 get int8 dynamic
quantization (VNNI) of the Linear layers and of the convolutions that are plain window products
(`Int8Conv1d`: Wav2Vec2's feature encoder). Which one wins depends on the machine: with AMX,
bf16; with AVX512-BF16 alone, bf16 ran slower than float32 and int8 won.

`choose` times the candidates on a probe clip and keeps the fastest whose scores stay within
`TOLERANCE` of float32 on probe clips; anything that fails falls back to float32.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from intentdesk.core.audio import io as audio
from intentdesk.core.files import atomic_write_bytes
from intentdesk.core.learning.settings import PRECISIONS
from intentdesk.core.models import backbone
from intentdesk.paths import cache_home
from intentdesk.resources import resource_dir

TOLERANCE = 0.03  # largest allowed difference of any softmax score against float32
# Part of the remembered choice's key: raise it when the check changes, so that no format accepted
# by a weaker check is reused (2: speech probes, after tones alone accepted a drifting int8 model).
CHECK_VERSION = "check-2"
HEAD_NAMES = {"projector", "classifier"}  # Linears whose bf16 output goes back to float32 (the scores)

Forward = Callable[[torch.nn.Module, list[np.ndarray]], torch.Tensor]


class _ConvShape(torch.nn.Module):
    """Keeps the replaced Conv1d's shape attributes: models read them (Whisper checks strides)."""

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__()
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"):
            setattr(self, name, getattr(conv, name))


class ChannelsLastConv1d(_ConvShape):
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


class WaveformConv1d(_ConvShape):
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


def _fast_conv(conv: torch.nn.Conv1d) -> torch.nn.Module:
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
    for encoder in _waveform_encoders(fast):
        encoder.to(torch.bfloat16)
        encoder.register_forward_pre_hook(lambda _m, args: tuple(a.to(torch.bfloat16) for a in args))
        encoder.register_forward_hook(lambda _m, _args, out: out.float())
    pack = PackedLinear.available()
    with torch.no_grad():
        for module in list(fast.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Conv1d) and child.padding_mode == "zeros":
                    setattr(module, name, _fast_conv(child))
                elif pack and type(child) is torch.nn.Linear:
                    setattr(module, name, PackedLinear(child, float_out=name in HEAD_NAMES))
    return fast


def _waveform_encoders(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Convolutional feature encoders that read raw audio (`feature_extractor` in Wav2Vec2,
    HuBERT, WavLM, Data2Vec-Audio): their first convolution has a single input channel."""
    found = []
    for name, module in model.named_modules():
        convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv1d)]
        if name.split(".")[-1] == "feature_extractor" and convs and convs[0].in_channels == 1:
            found.append(module)
    return found


def _quantize_linears(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its Linear layers dynamically quantized to int8, in place (torch's
    deprecation warnings about the quantization API silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


class Int8Conv1d(_ConvShape):
    """A Conv1d without padding, groups or dilation, as an int8 matrix product over its windows.

    Dynamic quantization leaves convolutions alone, yet Wav2Vec2's feature encoder (six
    512-channel convolutions after the first) was 56 of the int8 model's 125 ms for a 3 s clip
    on a CPU without AMX; as products of the unfolded windows with int8 weights (VNNI) it took
    32 ms. The first convolution (one input channel, a tiny product) is left as it is.
    """

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        super().__init__(conv)
        linear = torch.nn.Linear(conv.in_channels * conv.kernel_size[0], conv.out_channels, bias=conv.bias is not None)
        with torch.no_grad():
            linear.weight.copy_(conv.weight.reshape(conv.out_channels, -1))  # (out, in x kernel), unfold's order
            if conv.bias is not None:
                linear.bias.copy_(conv.bias)
        self.linear = _quantize_linears(torch.nn.Sequential(linear))[0]

    @staticmethod
    def fits(conv: torch.nn.Conv1d) -> bool:
        return conv.in_channels > 1 and conv.groups == 1 and conv.padding == (0,) and conv.dilation == (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = x.unfold(2, self.kernel_size[0], self.stride[0])  # (batch, channels, frames, kernel)
        rows = windows.permute(0, 2, 1, 3).reshape(x.shape[0], windows.shape[2], -1)
        return self.linear(rows).transpose(1, 2)


def _plain_conv(conv: torch.nn.Conv1d) -> torch.nn.Conv1d:
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
    """Linear layers, and convolutions that are plain products of windows (`Int8Conv1d`),
    quantized to int8 per call (dynamic); other convolutions stay float32."""
    from torch.nn.utils import parametrize

    fast = copy.deepcopy(model).eval()
    with torch.no_grad():
        for module in list(fast.modules()):
            for name, child in list(module.named_children()):
                if not isinstance(child, torch.nn.Conv1d):
                    continue
                if child.padding_mode == "zeros" and Int8Conv1d.fits(child):
                    setattr(module, name, Int8Conv1d(child))
                elif parametrize.is_parametrized(child):
                    setattr(module, name, _plain_conv(child))
    return _quantize_linears(fast)  # `fast` is already a copy


CONVERTERS: dict[str, Callable[[torch.nn.Module], torch.nn.Module]] = {"bf16": to_bf16, "int8": to_int8}


def candidates(device: torch.device) -> list[str]:
    """Formats worth trying on this machine, fastest first by expectation."""
    if device.type != "cpu":
        return []
    return ["bf16", "int8"] if backbone.cpu_has_bf16() else ["int8"]  # `choose` times them: AMX or not


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype
    for buffer in model.buffers():
        if buffer.is_floating_point():
            return buffer.dtype
    return torch.float32


def probe_waves(rate: int) -> list[np.ndarray]:
    """Deterministic speech-band test signals (1 s and 3 s): a gliding tone with noise."""
    rng = np.random.default_rng(0)
    waves = []
    for seconds in (1.0, 3.0):
        t = np.arange(int(rate * seconds)) / rate
        tone = np.sin(2 * np.pi * (150 + 400 * t / seconds) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        waves.append((0.3 * tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32))
    return waves


def speech_probes(rate: int) -> list[np.ndarray]:
    """Four spoken sentences (resources/probes) at `rate`. Tones alone are not enough: an int8
    Whisper model drifted <= 0.03 on them and up to 0.19 on real speech."""
    return [audio.load_audio(path, rate)[0] for path in sorted(resource_dir().joinpath("probes").glob("*.flac"))]


def median_ms(call: Callable[[], object], runs: int = 3) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@dataclass
class Choice:
    precision: str
    model: torch.nn.Module
    timings_ms: dict[str, float]
    rejected: dict[str, str]
    remembered: bool = False


class ChoiceMemo:
    """The format `choose` picked for a model folder on this machine, kept in the user cache.

    Timing and checking the formats costs ~3 s per load of a Wav2Vec2-base model, more than a
    one-file `intentdesk classify` takes; the same model, torch and CPU give the same answer.
    """

    def __init__(self, model_dir: Path) -> None:
        files = sorted(f for f in model_dir.iterdir() if f.is_file() and f.suffix in (".json", ".safetensors", ".bin"))
        parts = [CHECK_VERSION, str(model_dir.resolve()), torch.__version__, platform.machine(),
                 str(backbone.cpu_has_bf16()), str(backbone.cpu_has_fast_bf16())]
        parts += [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]
        key = hashlib.sha1("|".join(parts).encode()).hexdigest()[:20]
        self.path = cache_home() / "precision" / f"{key}.json"

    def read(self) -> str | None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            return json.loads(self.path.read_text()).get("precision")
        return None

    def write(self, precision: str) -> None:
        with contextlib.suppress(OSError):  # a read-only cache only costs the next load some time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, json.dumps({"precision": precision}).encode())


def choose(model: torch.nn.Module, forward: Forward, rate: int, device: torch.device,
           requested: str = "auto", remembered: str | None = None) -> Choice:
    """The fastest format whose probe scores stay within TOLERANCE of float32.

    `requested` other than "auto" forces a format (still checked; a failing one falls back to
    float32 and says why in `rejected`). With "auto", a `remembered` choice (see `ChoiceMemo`)
    is taken without timing or checking again.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == "auto" and remembered == "fp32":
        return Choice("fp32", model, {}, {}, remembered=True)
    if requested == "auto" and remembered in candidates(device):
        with contextlib.suppress(Exception):  # if it no longer converts, choose afresh
            return Choice(remembered, CONVERTERS[remembered](model), {}, {}, remembered=True)
    names = candidates(device) if requested == "auto" else [requested]
    names = [n for n in names if n != "fp32"]
    if not names:
        return Choice("fp32", model, {}, {})
    tones, speech = probe_waves(rate), speech_probes(rate)
    if requested == "auto" and not speech:
        return Choice("fp32", model, {}, {n: "no speech probes to check it against" for n in names})
    timing_wave, waves = tones[-1], tones + speech
    with torch.inference_mode():
        reference = [forward(model, [w]) for w in waves]
        timings = {"fp32": median_ms(lambda: forward(model, [timing_wave]))} if requested == "auto" else {}
        accepted: dict[str, torch.nn.Module] = {}
        rejected: dict[str, str] = {}
        for name in names:
            try:
                fast = CONVERTERS[name](model)
                drift = max(float((forward(fast, [w]) - ref).abs().max()) for w, ref in zip(waves, reference))
            except Exception as error:  # any failure means "not this format", never a crash
                rejected[name] = f"failed: {str(error).splitlines()[0][:120]}"
                continue
            if not drift <= TOLERANCE:
                rejected[name] = f"scores differ from float32 by {drift:.3f}"
                continue
            accepted[name] = fast
            timings[name] = median_ms(lambda m=fast: forward(m, [timing_wave]))
    if not accepted:
        return Choice("fp32", model, timings, rejected)
    best = min(accepted, key=lambda n: timings.get(n, 0.0))
    if requested == "auto" and timings[best] >= timings["fp32"]:
        return Choice("fp32", model, timings, rejected)
    return Choice(best, accepted[best], timings, rejected)
