"""Talking about the Hugging Face hub: is it reachable, and what to tell the user when not."""

from __future__ import annotations

import os
from pathlib import Path

from intentdesk.core.errors import ModelError

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


def hub_error_message(what: str, error: BaseException) -> str:
    """One line: what failed, and whether it is the network or the name."""
    if looks_like_network_problem(error):
        return f"cannot download {what}: {OFFLINE_HINT}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot load {what}: {first[:200]}"


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
    """True when `base` names a local model folder; a path that is meant as a folder but is not a
    model folder raises `ModelError`; False means a hub id, left to the hub."""
    path = Path(base).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"{base}: not a Hugging Face model folder (no config.json); "
                             "choose a folder saved with save_pretrained")
        return True
    if base.startswith((".", "/", "~")) or base.count("/") > 1 or "\\" in base:
        raise ModelError(f"{base}: model folder not found")
    return False
