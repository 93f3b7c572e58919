"""Sentence embeddings for the words model: any Hugging Face text encoder, mean-pooled, unit length.

`all-MiniLM-L6-v2` (the default) is what sentence-transformers runs: token embeddings averaged
over the attention mask, then L2-normalised, so the dot product of two rows is their cosine
similarity. Texts are normalised first (`asr.normalise_text`), embedded in batches, and cached
by text (in memory and, by default, on disk under the IntentDesk cache folder).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from intentdesk.core.errors import ModelError, ModelUnavailable
from intentdesk.core.models.hub import DEFAULT_TEXT_ENCODER
from intentdesk.core.words.asr import WORDS_HINT, normalise_text
from intentdesk.core.words.cache import KeyValueCache, default_cache_dir, text_key, weights_fingerprint

MAX_TOKENS = 128


def load_text_encoder(source: str, device: str = "cpu"):
    """(model, tokenizer) from a local folder or hub id, or a `ModelError` saying what to do."""
    from intentdesk.core.models import bundled
    from intentdesk.core.models.backbone import transformers_api
    from intentdesk.core.models.hub import hub_error_message

    what = f"the text encoder {source!r}"
    source = bundled.resolve(source)
    path = Path(source).expanduser()
    local = path.exists()
    if local and not (path / "config.json").is_file():
        raise ModelError(f"{what}: {path} is not a Hugging Face model folder (no config.json); "
                         "choose the folder saved with save_pretrained")
    api = transformers_api()
    try:
        tokenizer = api.AutoTokenizer.from_pretrained(source)
        model = api.AutoModel.from_pretrained(source).to(device).eval()
    except Exception as error:
        raise ModelUnavailable(hub_error_message(what, error, local), WORDS_HINT) from error
    return model, tokenizer


class TextEncoder:
    """`encode(texts)` -> (n, dim) float32 rows of unit length. Thread-safe."""

    def __init__(self, source: str = DEFAULT_TEXT_ENCODER, *, device: str = "cpu", batch_size: int = 64,
                 cache_dir: Path | str | None | bool = None) -> None:
        self.source = str(source)
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.model, self.tokenizer = load_text_encoder(self.source, device)
        self.fingerprint = weights_fingerprint(self.model, "mean-l2")
        self.dim = int(self.model.config.hidden_size)
        if cache_dir is None or cache_dir is True:
            cache_dir = default_cache_dir()
        self.cache = KeyValueCache(Path(cache_dir) / "text_embeddings.sqlite" if cache_dir else None)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        clean = [normalise_text(t) for t in texts]
        keys = [f"{self.fingerprint}:{text_key(t)}" for t in clean]
        found = self.cache.get_many(keys)
        todo = list({keys[i]: clean[i] for i in range(len(clean)) if keys[i] not in found}.items())
        for start in range(0, len(todo), self.batch_size):
            part = todo[start:start + self.batch_size]
            vectors = self._embed([text for _, text in part])
            items = [(key, vector.tobytes()) for (key, _), vector in zip(part, vectors)]
            self.cache.put_many(items)
            found.update(items)
            if progress:
                progress(min(start + self.batch_size, len(todo)), len(todo))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([np.frombuffer(found[key], dtype=np.float32) for key in keys])

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            batch = {k: v.to(self.device) for k, v in batch.items()}
            hidden = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy().astype(np.float32)
