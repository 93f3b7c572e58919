"""Loading speech backbones and adapting them to short intent clips.

Works with any Hugging Face audio-classification checkpoint: Wav2Vec2, HuBERT, WavLM and
Data2Vec take raw `input_values`; Whisper and AST take spectrogram `input_features`.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import threading
from pathlib import Path

import torch

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.models import bundled, hub, model_files
from intentdesk.core.models.hub import check_local_model, hub_error_message

# The modules an audio-classification head adds on top of a backbone (Wav2Vec2, HuBERT, WavLM, Data2Vec,
# Whisper, AST): what training gives the head's learning rate, and what a checkpoint must hold to classify.
HEAD_MODULES = ("projector", "classifier", "layer_weights")
WHISPER_FRAMES_PER_SECOND = 50  # encoder positions per second of audio (10 ms hop, stride-2 conv)


_TRANSFORMERS_LOCK = threading.Lock()


def transformers_api():
    """The `transformers` module with the Auto classes resolved, imported under a lock.

    Its lazy-module attribute loading is not thread-safe: the GUI can start a training run
    and load a model for Classify at the same moment, and two threads resolving
    `transformers.AutoModelForAudioClassification` at once can fail with an ImportError.
    """
    with _TRANSFORMERS_LOCK:
        import transformers

        for name in ("AutoConfig", "AutoFeatureExtractor", "AutoModelForAudioClassification"):
            getattr(transformers, name)
        quiet_transformers()
        return transformers


def quiet_transformers() -> None:
    """transformers 5 prints a load report table for every head it initialises: noise for users."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with contextlib.suppress(Exception):  # "Writing model shards" bars come from huggingface_hub
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def describe_source(base: str) -> str:
    return f"folder {base}" if Path(base).expanduser().exists() else f"model {base!r}"


def _load_part(base: str, loader, what: str, file: str):
    """Load one part of a model (config, feature extractor) with the one plain message when it fails:
    for a local folder, the file whose settings transformers refused (it checked them after ours)."""
    base = bundled.resolve(base)
    local = check_local_model(base)
    try:
        return loader(base)
    except Exception as error:
        if local:
            problem = hub.error_line(error, 160)
            raise ModelError(f"{base}: {file} cannot be used ({problem}); {model_files.EDITED}") from error
        raise ModelError(hub_error_message(f"{what}{describe_source(base)}", error, local)) from error


def load_config(base: str):
    return _load_part(base, transformers_api().AutoConfig.from_pretrained, "", model_files.CONFIG)


def load_feature_extractor(base: str):
    return _load_part(base, transformers_api().AutoFeatureExtractor.from_pretrained, "the feature extractor of ",
                      model_files.FEATURE_CONFIGS[0])


def load_classifier_model(base: str, labels: list[str] | None = None, **config_overrides):
    """An `AutoModelForAudioClassification`, with a fresh head when `labels` are given."""
    api = transformers_api()
    base = bundled.resolve(base)
    config = load_config(base)
    if labels is not None:
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {label: i for i, label in enumerate(labels)}
    for key, value in config_overrides.items():
        setattr(config, key, value)
    if Path(base).expanduser().exists():
        check_fits_weights(Path(base).expanduser(), config)
    try:  # a base trained on other labels has a head of another size: with new labels it is replaced
        model = api.AutoModelForAudioClassification.from_pretrained(base, config=config,
                                                                    ignore_mismatched_sizes=labels is not None)
    except ValueError as error:
        raise ModelError(f"{base}: this architecture ({config.model_type}) cannot classify audio "
                         f"({first_line(error, 160)})") from error
    except Exception as error:
        raise ModelError(hub_error_message(describe_source(base), error, check_local_model(base))) from error
    return model


# What a model may have beyond its weight files before loading it is refused: a fresh classification
# head (a base model's projector and classifier: 768 x 256 + 256 x labels numbers) and rounding.
NEW_HEAD_VALUES = 4_000_000


def check_fits_weights(folder: Path, config) -> None:
    """Refuse, before anything is allocated, a config.json that describes a model larger than the weights
    beside it: transformers fills weights a file lacks with random numbers, at whatever size config.json
    says (a hidden size of 65,536 is gigabytes), and the model would rank by noise. The model is built
    on the meta device to count them: no memory, a few hundred milliseconds for a base-size model."""
    api = transformers_api()
    try:
        with torch.device("meta"), _without_initialising():
            model = api.AutoModelForAudioClassification.from_config(config)
    except Exception as error:
        raise ModelError(f"{folder}: config.json describes a model that cannot be built "
                         f"({hub.error_line(error, 160)}); {model_files.EDITED}") from error
    wanted = sum(parameter.numel() for parameter in model.parameters())
    stored = model_files.stored_values(folder)
    if wanted > 1.05 * stored + NEW_HEAD_VALUES:
        raise ModelError(f"{folder}: config.json describes a model of {wanted:,} numbers, but its weight files hold "
                         f"{stored:,} (a size in config.json was changed); {model_files.EDITED}")


def _without_initialising():
    """transformers' switch that skips the random initialisation a meta-device model does not need."""
    try:
        from transformers.initialization import no_init_weights
    except ImportError:
        return contextlib.nullcontext()
    return no_init_weights()


def is_whisper(model_or_config) -> bool:
    config = getattr(model_or_config, "config", model_or_config)
    return getattr(config, "model_type", "") == "whisper"


def fit_whisper_window(model, feature_extractor, seconds: float) -> None:
    """Shrink Whisper's fixed 30 s input window to `seconds` (rounded up to whole seconds).

    Whisper pads every clip to 30 s; for 2-8 s intents that is 4-15x wasted compute and the
    mean-pooled head is diluted by silence. Truncating the learned position table and telling
    the feature extractor the new chunk length keeps the saved folder self-consistent, so
    `pipeline("audio-classification")` pads to the same shorter window.
    """
    whole = max(1, math.ceil(seconds))
    positions = whole * WHISPER_FRAMES_PER_SECOND
    encoder = model.get_encoder() if hasattr(model, "get_encoder") else model.encoder
    if positions >= encoder.embed_positions.num_embeddings:
        return
    old = encoder.embed_positions
    new = torch.nn.Embedding(positions, old.embedding_dim)
    new.weight.data.copy_(old.weight.data[:positions])
    new.requires_grad_(False)
    encoder.embed_positions = new
    encoder.max_source_positions = positions
    for config in {id(c): c for c in (model.config, encoder.config)}.values():
        config.max_source_positions = positions
    rate = feature_extractor.sampling_rate
    feature_extractor.chunk_length = whole
    feature_extractor.n_samples = whole * rate
    feature_extractor.nb_max_frames = feature_extractor.n_samples // feature_extractor.hop_length


def check_inputs(folder: Path, model, feature_extractor) -> None:
    """What preprocessor_config.json makes of a clip is what the model in config.json takes; otherwise
    every clip fails inside the forward pass. Its input's name (model_input_names) is one the model
    has; a spectrogram model's input length is the one its position table was made for (Whisper:
    n_samples / hop_length frames, two per encoder position; AST: max_length frames)."""
    name = feature_extractor.model_input_names[0]
    if name not in inspect.signature(model.forward).parameters:
        raise ModelError(f"{folder}: preprocessor_config.json model_input_names gives the model {name!r}, which it "
                         f"does not take; {model_files.EDITED}")
    config = model.config
    if is_whisper(model):
        frames, wanted = feature_extractor.n_samples // feature_extractor.hop_length, 2 * config.max_source_positions
        entry = f"chunk_length {feature_extractor.chunk_length} s, n_samples {feature_extractor.n_samples}"
    elif config.model_type == "audio-spectrogram-transformer":
        frames, wanted = feature_extractor.max_length, config.max_length
        entry = f"max_length {frames}"
    else:
        return
    if frames != wanted:
        raise ModelError(f"{folder}: preprocessor_config.json ({entry}) gives {frames} frames a clip, but the model in "
                         f"config.json takes {wanted}; {model_files.EDITED}")


def window_seconds(feature_extractor) -> float | None:
    """The fixed input window of a spectrogram model, or None when clips keep their length."""
    samples = getattr(feature_extractor, "n_samples", None)
    return samples / feature_extractor.sampling_rate if samples else None


def freeze_front_end(model) -> bool:
    """Freeze the convolutional feature encoder (it learned generic acoustics; fine-tuning it on a
    few hundred clips only adds noise and cost). Returns whether there was one."""
    if hasattr(model, "freeze_feature_encoder"):
        model.freeze_feature_encoder()
        return True
    if is_whisper(model):
        encoder = model.get_encoder() if hasattr(model, "get_encoder") else model.encoder
        for module in (encoder.conv1, encoder.conv2, encoder.embed_positions):
            module.requires_grad_(False)
        return True
    return False


def pick_device(preference: str = "auto") -> torch.device:
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_bf16() -> bool:
    """oneDNN has bf16 kernels here (AVX512-BF16 or AMX): a bf16 model runs, not necessarily faster."""
    with contextlib.suppress(Exception):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def cpu_has_fast_bf16() -> bool:
    """AMX: bf16 matrix products then run several times faster than float32 on the CPU.

    AVX512-BF16 alone (AMD Zen 4, Cooper Lake, virtual machines that hide AMX) is not enough:
    on such a machine bf16 autocast made a quick-mode training step 1.6x slower than float32
    (608 vs 380 ms, Whisper tiny top layer, batch 16 x 400 frames).
    """
    with contextlib.suppress(Exception):
        return cpu_has_bf16() and bool(torch.cpu._is_amx_tile_supported())
    return False


def uses_bf16(device: torch.device, enabled: bool = True) -> bool:
    """Whether training runs under bf16 autocast: asked for, and native on this hardware."""
    return enabled and (device.type == "cuda" or (device.type == "cpu" and cpu_has_fast_bf16()))


def autocast_for(device: torch.device, enabled: bool = True):
    """bf16 autocast where the hardware does it fast (see `uses_bf16`), otherwise a no-op context."""
    if not uses_bf16(device, enabled):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
