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
from intentdesk.core.models import checksums
from intentdesk.core.models.model_files import read_json_object
from intentdesk.core.models.references import MODEL_FILE_PATTERNS, copy_model_files, local_part, resolve_part
from intentdesk.core.runs import METRICS_FILE
from intentdesk.core.staging import OLD_SETTINGS_FILE, SETTINGS_FILE
from intentdesk.core.words import checks
from intentdesk.core.words.fusion import FusionSettings
from intentdesk.core.words.head import WordsHead

FOLDER = "words"
CONFIG = "words_config.json"
HEAD = "head.safetensors"
FORMAT = "intentdesk-words"
VERSION = 1
RETRAIN = "train the model again (or delete the words folder to classify by sound only)"
PARTS = ("recogniser", "text_encoder")
MODEL_EXTRAS = (METRICS_FILE, SETTINGS_FILE, OLD_SETTINGS_FILE, checksums.CHECKSUMS)  # IntentDesk's own, beside HF's


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
    checksums.add_checksums(Path(model_dir).expanduser(), [f"{FOLDER}/{HEAD}"])  # a saved model's digests go on fitting
    document = {"format": FORMAT, "version": VERSION, "labels": list(head.labels), **config,
                "head": {"file": HEAD, **head.info}}
    atomic_write_bytes(folder / CONFIG, (json.dumps(document, indent=1, default=float) + "\n").encode())
    return folder


def load_words(model_dir: Path | str, sound_labels: list[str] | None = None) -> tuple[dict, WordsHead, FusionSettings]:
    """(config, head, fusion) from `MODEL/words/`, every value checked (`checks`); `ModelError` naming the
    file, the entry and what to do when one is missing or not sensible.

    With `sound_labels` (the sound model's labels in id order) the words part must list the same
    labels in the same order, or the two models' probabilities could not be combined; after them it may
    list intents learned from typed phrases alone (no recordings, so the sound model has not heard them).
    """
    folder = words_folder(model_dir)
    if not folder.is_dir():
        raise ModelError(f"{Path(model_dir)}: has no words part ({FOLDER}/ folder); it classifies by sound only")
    try:
        config = checks.check_config(_read_config(folder))
    except checks.BadEntry as error:
        raise error.refusal(folder / CONFIG, RETRAIN) from error
    labels = config["labels"]
    if sound_labels is not None and labels[:len(sound_labels)] != list(sound_labels):
        raise ModelError(f"{folder / CONFIG}: 'labels' ({', '.join(labels[:4])}...) are not the sound model's "
                         f"({', '.join(list(sound_labels)[:4])}...); the folder mixes two models: {RETRAIN}")
    return config, _read_head(folder, labels, config), FusionSettings.from_dict(config["fusion"])


def _read_config(folder: Path) -> dict:
    """words_config.json as read: a bounded JSON object of this format, in a version this IntentDesk reads."""
    path = folder / CONFIG
    if not path.is_file():
        raise ModelError(f"{folder}: {CONFIG} is missing, so the words part is incomplete "
                         f"(an interrupted save?): {RETRAIN}")
    config = read_json_object(path, RETRAIN)
    if config.get("format") != FORMAT:
        raise ModelError(f"{path}: not an IntentDesk words configuration ('format' is "
                         f"{checks.shown(config.get('format'))}, not {FORMAT!r}); {RETRAIN}")
    try:
        version = checks.VERSION.check("version", config.get("version", 0))
    except checks.BadEntry as error:
        raise error.refusal(path, RETRAIN) from error
    if version > VERSION:
        raise ModelError(f"{path}: 'version' is {version}: made by a newer IntentDesk (this one reads words format "
                         f"{VERSION}); update IntentDesk")
    return config


def _read_head(folder: Path, labels: list[str], config: dict) -> WordsHead:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = folder / HEAD
    if not path.is_file():
        raise ModelError(f"{folder}: {HEAD} is missing, so the words part is incomplete: {RETRAIN}")
    size = path.stat().st_size
    if size > checks.MAX_HEAD_BYTES:
        raise ModelError(f"{path}: too large ({size / 2 ** 20:.0f} MB, more than the "
                         f"{checks.MAX_HEAD_BYTES / 2 ** 20:.0f} MB a words head may take); {RETRAIN}")
    checksums.verify(folder.parent, (f"{FOLDER}/{HEAD}",))
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, TypeError, ValueError) as error:
        raise ModelError(f"{path}: damaged or incomplete ({first_line(error, 120)}); {RETRAIN}") from error
    try:
        head = WordsHead.from_tensors(labels, tensors, info=dict(config.get("head") or {}))
    except checks.BadEntry as error:
        raise error.refusal(path, RETRAIN) from error
    dim = config["text_encoder"].get("dim")
    if dim is not None and dim != head.dim:
        raise ModelError(f"{folder / CONFIG}: 'text_encoder.dim' is {dim}, but the head ({HEAD}) takes "
                         f"{head.dim}-number embeddings; {RETRAIN}")
    return head


def part_source(model_dir: Path | str, config: dict, part: str) -> str:
    """The folder to load the recogniser or text encoder (`part`) that the words part names: a
    folder inside MODEL/words/ (a bundled copy), a hub id's folder in the Hugging Face cache, or a
    local model folder of that kind named by its absolute path (`core.models.references`)."""
    from intentdesk.core.words.asr import WORDS_HINT

    folder = words_folder(model_dir)
    return resolve_part(folder, (config.get(part) or {}).get("source"), part, folder / CONFIG, WORDS_HINT)


def copy_model_folder(model_dir: Path | str, target: Path, hub_parts: bool = False) -> list[str]:
    """Copy a trained model folder for someone else (an export): the sound model's files, its
    settings and metrics, and the words part with the local recogniser and text encoder folders it
    names copied inside it as "recogniser" / "text_encoder". Hub ids stay (the other machine
    downloads them) unless `hub_parts`: then their folders in the Hugging Face cache are copied
    too (downloaded first when missing and online), for a copy that must work offline (an app made
    for someone else). Only model files, never anything else the folder or a folder it names holds,
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
        if local is None and hub_parts:
            local = Path(part_source(model_dir, config, part))
        if local is not None:
            copy_model_files(local, target / FOLDER / part)
            config[part]["source"] = part
            copied.append(part)
    if copied:
        atomic_write_bytes(target / FOLDER / CONFIG, (json.dumps(config, indent=1, default=float) + "\n").encode())
    return copied
