"""Talking about the Hugging Face hub (is it reachable, what to tell the user when not) and checking
local model folders before transformers loads them (what is missing, in the user's words)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line

DEFAULT_BASE_MODEL = "facebook/wav2vec2-base"

OFFLINE_HINT = ("the Hugging Face hub cannot be reached from this computer; "
                "download it on a connected machine and choose the local folder instead")


def hub_is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}


def looks_like_network_problem(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error}".lower()
    markers = ("offline", "connection", "resolve", "network", "timed out", "timeout",
               "couldn't connect", "max retries", "name or service", "temporary failure",
               "cannot find the requested files in the disk cache", "localentrynotfound")
    return hub_is_offline() or any(marker in text for marker in markers)


def hub_error_message(what: str, error: BaseException, local: bool = False) -> str:
    """One line: what failed, and whether it is the network or the name. A local folder never
    blames the network (HF_HUB_OFFLINE would otherwise make every local problem look like one)."""
    if not local and looks_like_network_problem(error):
        return f"cannot download {what}: {OFFLINE_HINT}"
    return f"cannot load {what}: {first_line(error)}"


def is_cached(repo_id: str) -> bool:
    """Whether a hub model's config is already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:
        return False


def hub_reachable(timeout: float = 1.5) -> bool:
    """A quick TCP check, so the GUI can say "offline" before a long download attempt fails."""
    if hub_is_offline():
        return False
    import socket

    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def check_local_model(base: str) -> bool:
    """True when `base` names a local model folder with everything loading needs (else
    `ModelError` saying what is missing); False means a hub id, left to the hub."""
    path = Path(base).expanduser()
    if path.exists():
        check_model_files(path)
        return True
    if base.startswith((".", "/", "~")) or base.count("/") > 1 or "\\" in base:
        raise ModelError(f"{base}: model folder not found")
    return False


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
    _check_weights(folder)
    if not any((folder / name).is_file() for name in FEATURE_CONFIGS):
        raise ModelError(f"{folder}: has no preprocessor_config.json (the feature extractor settings); "
                         "copy it from the base model's folder, or train again")
    return config


def read_json_object(path: Path, what_to_do: str) -> dict:
    """A JSON file that must hold an object; a damaged one is a `ModelError` naming it."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{path}: damaged ({first_line(error, 120)}); {what_to_do}") from error
    if not isinstance(value, dict):
        raise ModelError(f"{path}: damaged (not a JSON object); {what_to_do}")
    return value


def _check_weights(folder: Path) -> None:
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
    for file in files:
        if file.suffix == ".safetensors":
            _check_safetensors(file)


def _check_safetensors(path: Path) -> None:
    """Header and size agree: a file cut short by a killed save or copy is caught before loading."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            header_size = int.from_bytes(handle.read(8), "little")
            if size < 8 or header_size > size - 8:
                raise ValueError("header cut off")
            header = json.loads(handle.read(header_size))
        end = max((int(entry["data_offsets"][1]) for key, entry in header.items() if key != "__metadata__"),
                  default=0)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ModelError(f"{path}: damaged weights file ({first_line(error, 80)}); {INCOMPLETE}") from error
    if 8 + header_size + end > size:
        raise ModelError(f"{path}: truncated weights file ({size} of {8 + header_size + end} bytes); {INCOMPLETE}")


def check_classifier_folder(folder: Path | str) -> Path:
    """A trained classifier folder, checked file by file before loading (see `check_model_files`),
    with its label names in `id2label` under the keys 0..N-1."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ModelError(f"{folder}: model folder not found")
    config = check_model_files(folder)
    label_names(folder, config)
    return folder


def label_names(folder: Path, config: dict) -> list[str] | None:
    """The labels from a raw config.json, or a `ModelError` saying what is wrong with `id2label`.
    None when it has none: transformers then gives two labels, LABEL_0 and LABEL_1 (and leaves
    exactly those out when it saves a two-label model)."""
    id2label = config.get("id2label")
    if id2label is None:
        return None
    wanted = "config.json id2label must map the ids 0..N-1 to intent names"
    if not isinstance(id2label, dict) or not id2label:
        raise ModelError(f"{folder}: {wanted} (it is {first_line(json.dumps(id2label), 40)}); {EDITED}")
    by_id = {}
    for key, value in id2label.items():
        try:
            by_id[int(key)] = value
        except ValueError:
            raise ModelError(f"{folder}: {wanted}, not {key!r}; {EDITED}") from None
    missing = [i for i in range(len(by_id)) if i not in by_id]
    if missing:
        raise ModelError(f"{folder}: config.json id2label has no label for id {missing[0]} (ids must run "
                         f"0..{len(by_id) - 1}); {EDITED}")
    labels = [by_id[i] for i in range(len(by_id))]
    unusable = next((i for i, label in enumerate(labels) if not isinstance(label, str) or not label.strip()), None)
    if unusable is not None:
        raise ModelError(f"{folder}: {wanted}; id {unusable} has {labels[unusable]!r}; {EDITED}")
    twice = next((label for i, label in enumerate(labels) if label in labels[:i]), None)
    if twice is not None:
        raise ModelError(f"{folder}: config.json id2label names the intent {twice!r} twice; {EDITED}")
    return labels
