"""Saving and loading the words part of a model folder (`MODEL/words/`), with clear errors.

    MODEL/                      an ordinary Hugging Face audio-classification folder (untouched)
    MODEL/words/words_config.json   format, version, labels, recogniser, text encoder, fusion, metrics
    MODEL/words/head.safetensors    weight, bias, bank, bank_labels, background (see head.WordsHead)
    MODEL/words/recogniser/, MODEL/words/text_encoder/   only in a bundled copy (`bundle_local_parts`):
                                    the local model folders the config then names as "recogniser" /
                                    "text_encoder", resolved inside words/ (`part_source`)

The head is written first and the config last, each atomically, so a folder whose config exists
has a complete head unless it was damaged later, which `load_words` detects and names.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.words.fusion import FusionSettings
from intentdesk.core.words.head import WordsHead

FOLDER = "words"
CONFIG = "words_config.json"
HEAD = "head.safetensors"
FORMAT = "intentdesk-words"
VERSION = 1
RETRAIN = "train the model again (or delete the words folder to classify by sound only)"
PARTS = ("recogniser", "text_encoder")


def words_folder(model_dir: Path | str) -> Path:
    return Path(model_dir).expanduser() / FOLDER


def has_words(model_dir: Path | str) -> bool:
    """Whether the model folder has a words part (complete or not: `load_words` says which)."""
    return words_folder(model_dir).is_dir()


def save_words(model_dir: Path | str, config: dict, head: WordsHead) -> Path:
    """Write `MODEL/words/` (head, then config). `config` holds "recogniser", "text_encoder" and
    "fusion" (dicts) and anything else worth keeping ("metrics", ...); labels come from the head."""
    from safetensors.numpy import save

    from intentdesk.core.files import atomic_write_bytes

    folder = words_folder(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / HEAD, save(head.tensors()))
    document = {"format": FORMAT, "version": VERSION, "labels": list(head.labels), **config,
                "head": {"file": HEAD, **head.info}}
    atomic_write_bytes(folder / CONFIG, (json.dumps(document, indent=1, default=float) + "\n").encode())
    return folder


def load_words(model_dir: Path | str, sound_labels: list[str] | None = None) -> tuple[dict, WordsHead, FusionSettings]:
    """(config, head, fusion) from `MODEL/words/`; `ModelError` naming what is missing or wrong.

    With `sound_labels` (the sound model's labels in id order) the words part must list the same
    labels in the same order, or the two models' probabilities could not be combined.
    """
    folder = words_folder(model_dir)
    if not folder.is_dir():
        raise ModelError(f"{Path(model_dir)}: has no words part ({FOLDER}/ folder); it classifies by sound only")
    config = _read_config(folder)
    for key in ("labels", "recogniser", "text_encoder", "fusion"):
        if key not in config:
            raise ModelError(f"{folder / CONFIG}: has no {key!r} entry; the words part is incomplete: {RETRAIN}")
    labels = [str(label) for label in config["labels"]]
    if sound_labels is not None and labels != list(sound_labels):
        raise ModelError(f"{folder}: its labels ({', '.join(labels[:4])}...) are not the sound model's "
                         f"({', '.join(list(sound_labels)[:4])}...); the folder mixes two models: {RETRAIN}")
    for key in ("recogniser", "text_encoder"):
        if not isinstance(config[key], dict) or not config[key].get("source"):
            raise ModelError(f"{folder / CONFIG}: {key!r} does not name a model; {RETRAIN}")
    head = _read_head(folder, labels, config)
    try:
        fusion = FusionSettings.from_dict(config["fusion"])
    except (TypeError, ValueError) as error:
        raise ModelError(f"{folder / CONFIG}: bad 'fusion' entry ({error}); {RETRAIN}") from error
    return config, head, fusion


def _read_config(folder: Path) -> dict:
    path = folder / CONFIG
    if not path.is_file():
        raise ModelError(f"{folder}: {CONFIG} is missing, so the words part is incomplete "
                         f"(an interrupted save?): {RETRAIN}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{path}: damaged ({first_line(error, 120)}); {RETRAIN}") from error
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelError(f"{path}: not an IntentDesk words configuration; {RETRAIN}")
    if int(config.get("version", 0)) > VERSION:
        raise ModelError(f"{path}: made by a newer IntentDesk (words format {config.get('version')}, "
                         f"this one reads {VERSION}); update IntentDesk")
    return config


def _read_head(folder: Path, labels: list[str], config: dict) -> WordsHead:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = folder / HEAD
    if not path.is_file():
        raise ModelError(f"{folder}: {HEAD} is missing, so the words part is incomplete: {RETRAIN}")
    try:
        tensors = load_file(str(path))
        head = WordsHead.from_tensors(labels, tensors, info=dict(config.get("head") or {}))
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise ModelError(f"{path}: damaged or incomplete ({first_line(error, 120)}); {RETRAIN}") from error
    dim = (config.get("text_encoder") or {}).get("dim")
    if dim is not None and int(dim) != head.dim:
        raise ModelError(f"{path}: the head takes {head.dim}-number embeddings but the text encoder gives "
                         f"{dim}; {RETRAIN}")
    return head


def part_source(model_dir: Path | str, source: str) -> str:
    """Where to load a recogniser or text encoder named `source` in words_config.json: a folder of
    that name inside MODEL/words/ (a bundled copy), else `source` itself (a hub id or a folder).
    Only a folder really inside words/ counts: a config cannot point the app anywhere else."""
    folder = words_folder(model_dir).resolve()
    inside = (folder / source).resolve()
    if not Path(source).is_absolute() and inside.is_dir() and inside.is_relative_to(folder) and inside != folder:
        return str(inside)
    return source


def bundle_local_parts(model_dir: Path | str) -> list[str]:
    """Copy the local recogniser and text encoder folders the words part names into MODEL/words/
    and name them there, so the model folder works on a machine without those folders (a Ray
    Serve export). Hub ids are left: that machine downloads them. Returns the parts copied."""
    from intentdesk.core.files import atomic_write_bytes

    folder = words_folder(model_dir)
    config = _read_config(folder)
    copied = []
    for part in PARTS:
        source = Path(part_source(model_dir, str((config.get(part) or {}).get("source", "")))).expanduser()
        if source.name and source.is_dir() and source.resolve() != (folder / part).resolve():
            shutil.copytree(source, folder / part)
            config[part]["source"] = part
            copied.append(part)
    if copied:
        atomic_write_bytes(folder / CONFIG, (json.dumps(config, indent=1, default=float) + "\n").encode())
    return copied
