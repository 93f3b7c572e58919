"""A stable, stratified train/eval split.

Each clip's side is decided by a seeded hash of its file name, so a clip keeps its side when
other clips are added or removed (a random shuffle would reshuffle everything and leak eval
clips into training between runs). Per label, at least one clip goes to eval and one to train
whenever the label has two or more clips. An explicit `split` column (train/eval/test/validation)
in metadata.csv wins over the hash, so imported official splits are respected.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from intentdesk.core.data.store import Clip

EVAL_NAMES = {"eval", "test", "validation", "valid", "dev"}
TRAIN_NAMES = {"train", "training"}


def _unit_hash(file_name: str, seed: int) -> float:
    digest = hashlib.sha1(f"{seed}:{file_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_clips(clips: list[Clip], eval_share: float = 0.2, seed: int = 0) -> tuple[list[Clip], list[Clip]]:
    """Return (train, eval). Clips keep their relative order."""
    if not 0.0 < eval_share < 1.0:
        raise ValueError("eval_share must be between 0 and 1")
    side: dict[str, str] = {}
    by_label: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        declared = clip.extra.get("split", "").strip().lower()
        if declared in EVAL_NAMES:
            side[clip.file_name] = "eval"
        elif declared in TRAIN_NAMES:
            side[clip.file_name] = "train"
        else:
            by_label[clip.label].append(clip)
    for group in by_label.values():
        hashed = sorted(group, key=lambda c: _unit_hash(c.file_name, seed))
        for clip in group:
            side[clip.file_name] = "eval" if _unit_hash(clip.file_name, seed) < eval_share else "train"
        if len(group) >= 2:
            if all(side[c.file_name] == "train" for c in group):
                side[hashed[0].file_name] = "eval"
            if all(side[c.file_name] == "eval" for c in group):
                side[hashed[-1].file_name] = "train"
    train = [c for c in clips if side[c.file_name] == "train"]
    evaluation = [c for c in clips if side[c.file_name] == "eval"]
    return train, evaluation
