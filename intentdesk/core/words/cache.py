"""A small on-disk key-value cache (SQLite) for transcripts and text embeddings.

Keys are strings (content hash + model fingerprint); values are text or bytes. Writes go in one
transaction per batch; a damaged or unwritable cache file never stops recognition: the cache
then works from memory only. Safe to share between threads (one lock) and processes (SQLite).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


def default_cache_dir() -> Path:
    """`<IntentDesk cache>/words` (INTENTDESK_CACHE overrides the IntentDesk cache folder)."""
    from intentdesk.paths import cache_home

    return cache_home() / "words"


def wave_key(wave: np.ndarray) -> str:
    """The content hash of a float32 mono clip (as decoded and resampled): same sound, same key."""
    data = np.ascontiguousarray(wave, dtype=np.float32)
    return hashlib.sha1(data.tobytes()).hexdigest()


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def weights_fingerprint(model, extra: str = "") -> str:
    """A short hash of a loaded model: its config, and a strided sample of every weight tensor.

    Cheap (a few ms for Whisper tiny) and changes when the model is fine-tuned or replaced, so
    a cache keyed by it never serves one recogniser's transcripts for another.
    """
    import json

    import torch

    digest = hashlib.sha1(extra.encode())
    config = getattr(model, "config", None)
    if config is not None:  # not the library version or the folder name: same weights, same fingerprint
        settings = {k: v for k, v in config.to_dict().items() if k not in ("transformers_version", "_name_or_path")}
        digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            flat = tensor.detach().reshape(-1)
            digest.update(name.encode())
            digest.update(flat[:: max(1, flat.numel() // 256)].float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class KeyValueCache:
    """`get_many`/`put_many` over one SQLite table; `path=None` keeps everything in memory."""

    def __init__(self, path: Path | str | None, memory_limit: int = 20000) -> None:
        self.path = Path(path) if path else None
        self.memory_limit = memory_limit
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            with contextlib.suppress(OSError, sqlite3.Error):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(self.path), timeout=10, check_same_thread=False)
                db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB)")
                db.commit()
                self._db = db

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found = {key: self._memory[key] for key in keys if key in self._memory}
        wanted = [key for key in dict.fromkeys(keys) if key not in found]
        with self._lock:
            if self._db is not None and wanted:
                try:
                    for start in range(0, len(wanted), 500):
                        part = wanted[start:start + 500]
                        marks = ",".join("?" * len(part))
                        rows = self._db.execute(f"SELECT key, value FROM kv WHERE key IN ({marks})", part)
                        found.update((key, bytes(value)) for key, value in rows)
                except sqlite3.Error:
                    self._db = None  # damaged file: carry on from memory
        self._remember(found.items())
        return found

    def _remember(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Keep recent entries in memory, up to `memory_limit` (a long-running service must not grow)."""
        self._memory.update(items)
        if len(self._memory) > self.memory_limit:
            for key in list(self._memory)[: len(self._memory) - self.memory_limit // 2]:
                del self._memory[key]

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        items = list(items)
        self._remember(items)
        with self._lock:
            if self._db is not None and items:
                try:
                    self._db.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", items)
                    self._db.commit()
                except sqlite3.Error:
                    self._db = None

    def __len__(self) -> int:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    return int(self._db.execute("SELECT COUNT(*) FROM kv").fetchone()[0])
        return len(self._memory)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
