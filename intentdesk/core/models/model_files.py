"""Checking local model folders before transformers loads them: every file loading needs is there, every
size and setting a config names is sane, the weights' headers agree with them; what is wrong, in the user's
words (which file, which entry, what to do). A model folder is untrusted input: nothing here trusts it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.json_files import JsonProblem, parse_json, read_json
from intentdesk.core.labels import label_text_problem
from intentdesk.core.models import checksums

CONFIG = "config.json"
FEATURE_CONFIGS = ("preprocessor_config.json", "processor_config.json")
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
INCOMPLETE = "the save or copy was interrupted: train again, or copy the whole folder again"
EDITED = "the file was edited or damaged: train again, or copy the whole folder again"


def check_model_files(folder: Path) -> dict:
    """Check a local model folder before transformers sees it, and return its config.

    Loading a half-written folder fails deep inside transformers with messages about the hub or
    `ignore_mismatched_sizes`; these checks name the missing or damaged file instead.
    """
    if not folder.is_dir():
        raise ModelError(f"{folder}: is a file, not a model folder; choose the folder that holds config.json")
    if not (folder / CONFIG).is_file():
        if (folder / "metadata.csv").is_file():
            raise ModelError(f"{folder}: is a dataset folder, not a model; choose a model folder "
                             "(trained models are in the dataset's models/ folder)")
        raise ModelError(f"{folder}: not a Hugging Face model folder (no config.json); "
                         "choose a folder saved with save_pretrained")
    config = read_json_object(folder / CONFIG, INCOMPLETE)
    check_sizes(folder / CONFIG, config)
    if not isinstance(config.get("model_type", ""), str):
        raise ModelError(f"{folder / CONFIG}: model_type is {_shown(config['model_type'])}, but it must be the name "
                         f"of a model type (wav2vec2, whisper...); {EDITED}")
    _check_weights(folder)
    features = next((folder / name for name in FEATURE_CONFIGS if (folder / name).is_file()), None)
    if features is None:
        raise ModelError(f"{folder}: has no preprocessor_config.json (the feature extractor settings); "
                         "copy it from the base model's folder, or train again")
    feature_settings = read_json_object(features, EDITED)
    check_feature_settings(features, feature_settings)
    check_mel_bins(features, feature_settings, config)
    return config


def check_mel_bins(path: Path, settings: dict, config: dict) -> None:
    """A spectrogram model's config.json says how many mel bands it takes (`num_mel_bins`); its feature
    extractor must make that many (`num_mel_bins`, or Whisper's `feature_size`), or every clip fails inside the
    model's first layer."""
    wanted = config.get("num_mel_bins")
    entry = "num_mel_bins" if "num_mel_bins" in settings else "feature_size"
    made = settings.get(entry)
    if _is_whole(wanted) and _is_whole(made) and made != wanted:
        raise ModelError(f"{path}: {entry} is {made}, but config.json's num_mel_bins is {wanted}: the model takes "
                         f"{wanted} mel bands; {EDITED}")


# Model files are settings, not data: a config.json with 10,000 labels is about 1 MB, Whisper's
# preprocessor_config.json with its mel filters about 0.5 MB.
MODEL_JSON_BYTES = 16 << 20


def read_json_object(path: Path, what_to_do: str) -> dict:
    """A JSON file of a model folder that must hold an object, read within bounds (`read_json`, no NaN
    or Infinity); a damaged one is a `ModelError` naming it and saying `what_to_do`."""
    try:
        value = read_json(path, MODEL_JSON_BYTES, finite=True)
    except JsonProblem as error:
        raise ModelError(f"{path}: damaged ({first_line(error, 160)}); {what_to_do}") from error
    if not isinstance(value, dict):
        raise ModelError(f"{path}: damaged (not a JSON object); {what_to_do}")
    return value


MAX_LABELS = 10_000  # intents of one model; a real one has tens
MAX_LAYERS = 256  # layers and attention heads: the largest speech models have 48 layers, BERT-large 24
MAX_SIZE = 1 << 20  # any other size (hidden size, vocabulary, positions): a real one is below 300,000
# (entry name pattern, smallest, largest): the first that matches a whole number (or list of them) applies.
SIZE_RULES = (
    (re.compile(r"^num_labels$"), 1, MAX_LABELS),
    (re.compile(r"_heads$"), 1, MAX_LAYERS),
    (re.compile(r"layers$"), 0, MAX_LAYERS),
    (re.compile(r"^num_|^d_model$|(_size|_dim|_dims|_positions|_embeddings|_length|_stride|_kernel|_dilation|_bins)$"),
     0, MAX_SIZE),
)
NOT_SIZES = ("id2label", "label2id")


def check_sizes(path: Path, config: dict, prefix: str = "") -> None:
    """Every size config.json states (layers, heads, hidden sizes..., in nested configs too) is a whole
    number within bounds before transformers builds anything from it: 10**30 layers would loop for
    ever, a negative head count fails deep inside a forward pass."""
    for key, value in config.items():
        entry = f"{prefix}{key}"
        if isinstance(value, dict) and key not in NOT_SIZES:
            check_sizes(path, value, f"{entry}.")
            continue
        rule = next(((low, high) for pattern, low, high in SIZE_RULES if pattern.search(str(key))), None)
        if rule is None or value is None or isinstance(value, bool):
            continue  # not a size, or a switch (tie_word_embeddings) or "none" (adapter_attn_dim: null)
        numbers = value if isinstance(value, list) else [value]
        if not all(_is_whole(n) and rule[0] <= n <= rule[1] for n in numbers):
            raise ModelError(f"{path}: {entry} is {_shown(value)}, but it must be a whole number from {rule[0]} to "
                             f"{rule[1]:,}; {EDITED}")


# Entries of preprocessor_config.json that IntentDesk uses or that size what it computes: (kind, low, high).
FEATURE_RULES = {
    "sampling_rate": (int, 1000, 384_000), "feature_size": (int, 1, 1024), "num_mel_bins": (int, 1, 1024),
    "chunk_length": (int, 1, 600), "n_samples": (int, 1, 600 * 384_000), "nb_max_frames": (int, 1, MAX_SIZE),
    "hop_length": (int, 1, 1 << 16), "n_fft": (int, 1, 1 << 16), "max_length": (int, 1, MAX_SIZE),
    "padding_value": (float, -1e6, 1e6), "do_normalize": (bool, 0, 1), "return_attention_mask": (bool, 0, 1),
    "feature_extractor_type": (str, 1, 100), "model_input_names": (list, 1, 8),
}


def check_feature_settings(path: Path, settings: dict) -> None:
    """The feature extractor's settings IntentDesk relies on have a usable type and range: a sampling
    rate of 10**30 would resample every clip into gigabytes, a text where a number goes fails inside
    the feature extractor with a bare Python message. (A processor_config.json keeps them under
    "feature_extractor".)"""
    inner = settings.get("feature_extractor")
    settings = inner if isinstance(inner, dict) else settings
    for key, (kind, low, high) in FEATURE_RULES.items():
        if key not in settings or (settings[key] is None and key == "max_length"):
            continue
        value = settings[key]
        if kind is bool:
            fits, wanted = isinstance(value, bool), "true or false"
        elif kind is str:
            fits, wanted = isinstance(value, str) and low <= len(value) <= high, f"a name of {low} to {high} characters"
        elif kind is list:
            fits = isinstance(value, list) and low <= len(value) <= high and all(
                isinstance(name, str) and 0 < len(name) <= 100 for name in value)
            wanted = f"a list of {low} to {high} input names"
        elif kind is int:
            fits, wanted = _is_whole(value) and low <= value <= high, f"a whole number from {low:,} to {high:,}"
        else:
            fits = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
            wanted = f"a number from {low:g} to {high:g}"
        if not fits:
            raise ModelError(f"{path}: {key} is {_shown(value)}, but it must be {wanted}; {EDITED}")


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: object) -> str:
    """A value from a file as a message shows it: short, one line."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list) and len(value) > 4:
        return f"a list of {len(value)}"
    return first_line(json.dumps(value), 40)


def _check_weights(folder: Path) -> None:
    """Each weight file's header, then its contents against the digests saved with the model, where IntentDesk
    saved it (`checksums`: a base model trained from, as well as a model classified with)."""
    files = weight_files(folder)
    for file in files:
        if file.suffix == ".safetensors":
            _check_safetensors(file)
    checksums.verify(folder, tuple(file.name for file in files))


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder (shards named by an index included), each checked to be there."""
    files = [folder / name for name in WEIGHTS if (folder / name).is_file()]
    for index in (folder / name for name in WEIGHT_INDEXES):
        if index.is_file():
            shards = read_json_object(index, INCOMPLETE).get("weight_map") or {}
            if not isinstance(shards, dict):
                raise ModelError(f"{index}: 'weight_map' must map weight names to file names; {EDITED}")
            outside = next((name for name in shards.values() if not isinstance(name, str) or Path(name).name != name
                            or name in ("", ".", "..")), None)
            if outside is not None:
                raise ModelError(f"{index}: 'weight_map' names {outside!r}, not a file in {folder}; a model folder "
                                 f"may only name its own files: {EDITED}")
            missing = sorted({name for name in shards.values() if not (folder / str(name)).is_file()})
            if missing:
                raise ModelError(f"{folder}: weight file(s) missing: {', '.join(missing[:3])}; {INCOMPLETE}")
            files += [folder / str(name) for name in set(shards.values())]
    if not files:
        raise ModelError(f"{folder}: has config.json but no weights (model.safetensors); {INCOMPLETE}")
    return files


SAFETENSORS_MAX_HEADER = 100_000_000  # the safetensors library's own limit
DTYPE_BYTES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2}


def _check_safetensors(path: Path) -> dict[str, dict]:
    """Header and size agree: a file cut short by a killed save or copy is caught before loading.
    Returns the tensor entries of the header (name -> dtype, shape, data_offsets)."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            header_size = int.from_bytes(handle.read(8), "little")
            if size < 8 or header_size > min(size - 8, SAFETENSORS_MAX_HEADER):
                raise ValueError("header cut off")
            header = parse_json(handle.read(header_size))
        if not isinstance(header, dict):
            raise ValueError("header is not a table of tensors")
        tensors = {key: entry for key, entry in header.items() if key != "__metadata__"}
        if not all(isinstance(entry, dict) and _offsets(entry) for entry in tensors.values()):
            raise ValueError("a tensor without its place in the file")
    except (OSError, ValueError) as error:
        raise ModelError(f"{path}: damaged weights file ({first_line(error, 80)}); {INCOMPLETE}") from error
    end = max((_offsets(entry)[1] for entry in tensors.values()), default=0)
    if 8 + header_size + end > size:
        raise ModelError(f"{path}: truncated weights file ({size} of {8 + header_size + end} bytes); {INCOMPLETE}")
    return tensors


def _offsets(entry: dict) -> tuple[int, int] | None:
    """A tensor's (start, end) in the data, or None when data_offsets is not two whole numbers in order."""
    offsets = entry.get("data_offsets")
    if isinstance(offsets, list) and len(offsets) == 2 and all(_is_whole(n) for n in offsets) \
            and 0 <= offsets[0] <= offsets[1]:
        return offsets[0], offsets[1]
    return None


def stored_values(folder: Path) -> int:
    """How many numbers a model folder's weight files hold (from the safetensors headers; a .bin file,
    which has no header to read, counts as one number per byte): what config.json may describe."""
    total = 0
    for file in weight_files(folder):
        if file.suffix != ".safetensors":
            total += file.stat().st_size
            continue
        for entry in _check_safetensors(file).values():
            start, end = _offsets(entry) or (0, 0)
            total += (end - start) // DTYPE_BYTES.get(str(entry.get("dtype")), 1)
    return total


def check_classifier_folder(folder: Path | str) -> Path:
    """A trained classifier folder, checked file by file before loading (see `check_model_files`),
    with its label names in `id2label` under the keys 0..N-1."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ModelError(f"{folder}: model folder not found")
    if (folder / CONFIG).is_symlink() or (folder / CONFIG).exists():  # a model folder, not any folder chosen
        check_links(folder)
    config = check_model_files(folder)
    label_names(folder, config)
    return folder


MAX_CHECKED_ENTRIES = 10_000  # a model folder holds tens of files; more are not looked through


def check_links(folder: Path) -> None:
    """Every file in a classifier folder (its words part too) is a plain file in it: a link that leads out of it
    (to another model's weights, to /etc/passwd) or a device or pipe (/dev/zero as weights) is refused, naming
    it. A folder in the Hugging Face cache links its files to the cache's blobs of the same model: those count
    as in it."""
    root = folder.resolve()
    allowed = [root]
    if folder.parent.name == "snapshots":  # HF cache: models--org--name/snapshots/<commit>/ -> ../../blobs/
        allowed.append(folder.parent.parent.resolve() / "blobs")
    checked = 0
    for where, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            checked += 1
            if checked > MAX_CHECKED_ENTRIES:
                return
            path = Path(where) / name
            target = path.resolve()
            if path.is_symlink() and not any(target == place or place in target.parents for place in allowed):
                raise ModelError(f"{path}: is a link to {target}, outside the model folder; copy the file itself "
                                 "into the folder (a model folder is read only from inside)")
            if name in files and target.exists() and not target.is_file():
                raise ModelError(f"{path}: is not a plain file (a device or a pipe); {EDITED}")


def label_names(folder: Path, config: dict) -> list[str] | None:
    """The labels from a raw config.json, or a `ModelError` saying what is wrong with `id2label`
    (the ids "0".."N-1" exactly, each a label people can read: `labels.label_text_problem`) or
    with a `num_labels` that disagrees. None when it has none: transformers then gives two labels,
    LABEL_0 and LABEL_1 (and leaves exactly those out when it saves a two-label model)."""
    id2label = config.get("id2label")
    if id2label is None:
        return None
    wanted = "config.json id2label must map the ids 0..N-1 to intent names"
    if not isinstance(id2label, dict) or not id2label or len(id2label) > MAX_LABELS:
        what = f"an object of {len(id2label):,} entries" if isinstance(id2label, dict) and id2label else \
            first_line(json.dumps(id2label), 40)
        raise ModelError(f"{folder}: {wanted}, at most {MAX_LABELS:,} (it is {what}); {EDITED}")
    odd = next((key for key in id2label if not re.fullmatch(r"0|[1-9][0-9]{0,5}", key)), None)
    if odd is not None:
        raise ModelError(f"{folder}: {wanted}, not {first_line(repr(odd), 40)}; {EDITED}")
    missing = next((i for i in range(len(id2label)) if str(i) not in id2label), None)
    if missing is not None:
        raise ModelError(f"{folder}: config.json id2label has no label for id {missing} (ids must run "
                         f"0..{len(id2label) - 1}); {EDITED}")
    labels = [id2label[str(i)] for i in range(len(id2label))]
    seen: set[str] = set()
    for i, label in enumerate(labels):
        problem = label_text_problem(label)
        if problem is not None:
            raise ModelError(f"{folder}: {wanted}; id {i} has {first_line(repr(label), 60)}, which {problem}; {EDITED}")
        if label in seen:
            raise ModelError(f"{folder}: config.json id2label names the intent {label!r} twice; {EDITED}")
        seen.add(label)
    count = config.get("num_labels", len(labels))
    if not (_is_whole(count) and count == len(labels)):
        raise ModelError(f"{folder}: config.json num_labels is {_shown(count)}, but id2label names {len(labels)} "
                         f"intents; {EDITED}")
    return labels
