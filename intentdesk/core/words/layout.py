"""Saving and loading the words part of a model folder (`MODEL/words/`), with clear errors.

    MODEL/                      an ordinary Hugging Face audio-classification folder (untouched)
    MODEL/words/words_config.json   format, version, labels, recogniser, text encoder, fusion, metrics
    MODEL/words/head.safetensors    weight, bias, bank, bank_labels, background (see head.WordsHead)
    MODEL/words/recogniser/, MODEL/words/text_encoder/   only in an exported copy (`copy_model_folder`):
                                    the local model folders the config then names as "recogniser" /
                                    "text_encoder", resolved inside words/ only (`part_source`)

The head is written first and the config last, each atomically, so a folder whose config exists
has a complete head unless it was damaged later, which `load_words` detects and names.
"""

from __future__ import annotations

import json
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.files import atomic_write_bytes
from intentdesk.core.models.references import MODEL_FILE_PATTERNS, copy_model_files, local_part, resolve_part
from intentdesk.core.run_settings_file import OLD_SETTINGS_FILE, SETTINGS_FILE
from intentdesk.core.runs import METRICS_FILE
from intentdesk.core.words.fusion import FusionSettings
from intentdesk.core.words.head import WordsHead

FOLDER = "words"
CONFIG = "words_config.json"
HEAD = "head.safetensors"
FORMAT = "intentdesk-words"
VERSION = 1
RETRAIN = "train the model again (or delete the words folder to classify by sound only)"
PARTS = ("recogniser", "text_encoder")
MODEL_EXTRAS = (METRICS_FILE, SETTINGS_FILE, OLD_SETTINGS_FILE)  # IntentDesk's own files, beside HF's


def words_folder(model_dir: Path | str) -> Path:
    return Path(model_dir).expanduser() / FOLDER


def has_words(model_dir: Path | str) -> bool:
    """Whether the model folder has a words part (complete or not: `load_words` says which)."""
    return words_folder(model_dir).is_dir()


def save_words(model_dir: Path | str, config: dict, head: WordsHead) -> Path:
    """Write `MODEL/words/` (head, then config). `config` holds "recogniser", "text_encoder" and
    "fusion" (dicts) and anything else worth keeping ("metrics", ...); labels come from the head."""
    from safetensors.numpy import save

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


def part_source(model_dir: Path | str, config: dict, part: str) -> str:
    """The folder to load the recogniser or text encoder (`part`) that the words part names: a
    folder inside MODEL/words/ (a bundled copy), a hub id's folder in the Hugging Face cache, or a
    local model folder of that kind named by its absolute path (`core.models.references`)."""
    from intentdesk.core.words.asr import WORDS_HINT

    folder = words_folder(model_dir)
    return resolve_part(folder, (config.get(part) or {}).get("source"), part, folder / CONFIG, WORDS_HINT)


def copy_model_folder(model_dir: Path | str, target: Path) -> list[str]:
    """Copy a trained model folder for someone else (an export): the sound model's files, its
    settings and metrics, and the words part with the local recogniser and text encoder folders it
    names copied inside it as "recogniser" / "text_encoder" (hub ids stay: the other machine
    downloads them). Only model files, never anything else the folder or a folder it names holds,
    never through a link that leaves it. Returns the words parts copied."""
    model_dir = Path(model_dir)
    copy_model_files(model_dir, target, (*MODEL_FILE_PATTERNS, *MODEL_EXTRAS))
    folder = words_folder(model_dir)
    if not folder.is_dir():
        return []
    config = _read_config(folder)
    copy_model_files(folder, target / FOLDER, (CONFIG, HEAD))
    copied = []
    for part in PARTS:
        local = local_part(folder, (config.get(part) or {}).get("source"), part, folder / CONFIG)
        if local is not None:
            copy_model_files(local, target / FOLDER / part)
            config[part]["source"] = part
            copied.append(part)
    if copied:
        atomic_write_bytes(target / FOLDER / CONFIG, (json.dumps(config, indent=1, default=float) + "\n").encode())
    return copied
