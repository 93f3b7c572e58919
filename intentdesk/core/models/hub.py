"""Talking about the Hugging Face hub: is it reachable, is a model in the cache, what to tell the user when
not; and telling a local model folder from a hub id (the folder's files are checked by `model_files`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from intentdesk.core.errors import ModelError, first_line
from intentdesk.core.models.model_files import CONFIG, WEIGHT_INDEXES, WEIGHTS, check_model_files

# The hub models the app starts from (the catalogue's three roles): defined here, below every room that uses them.
DEFAULT_BASE_MODEL = "facebook/wav2vec2-base"
DEFAULT_RECOGNISER = "openai/whisper-tiny.en"
DEFAULT_TEXT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"

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
    return f"cannot load {what}: {error_line(error)}"


def error_line(error: BaseException, limit: int = 200) -> str:
    """`first_line`, or the line that says what is wrong when the first only announces it: transformers'
    config checks give "Validation error for field 'hidden_size':", then "TypeError: Field 'hidden_size'
    expected int, got str (value: 'abc')" (given without its "TypeError: ")."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return first_line(re.sub(r"^[A-Za-z]*Error: ", "", lines[1]), limit)
    return first_line(error, limit)


def is_cached(repo_id: str) -> bool:
    """Whether a hub model's config is already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:
        return False


def is_downloaded(repo_id: str) -> bool:
    """Whether the hub model's config and weights are in the Hugging Face cache (a download cut off
    after the small files is not)."""
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(repo_id, CONFIG), str):
        return False
    return any(isinstance(try_to_load_from_cache(repo_id, name), str) for name in WEIGHTS + WEIGHT_INDEXES)


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
