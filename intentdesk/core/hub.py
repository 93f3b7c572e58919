"""Talking about the Hugging Face hub: is it reachable, and what to tell the user when not."""

from __future__ import annotations

import os

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
