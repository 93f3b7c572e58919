"""Model folders with a words part, made offline from tiny random models (import from here).

The sound part is a copy of a saved tiny classifier; the words part is trained by
`intentdesk.core.words.train_words` on typed texts (the tiny recogniser's transcripts are noise),
with the tiny recogniser and text encoder named in it, and saved beside the sound model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

TEXTS = ["freeze my card", "block my card", "what is my balance", "how much money do i have",
         "pay my phone bill", "pay the water bill"]


def make_words_model(sound_dir: Path, out: Path, recogniser: Path, encoder: Path) -> Path:
    """`out`: the sound classifier `sound_dir` plus a words part for its labels (in id order)."""
    import json

    from intentdesk.core.words import save_words, train_words

    shutil.copytree(sound_dir, out)
    config = json.loads((out / "config.json").read_text())
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    rng = np.random.default_rng(0)
    waves = [(rng.standard_normal(int(16000 * (0.6 + 0.1 * i))) * 0.1).astype(np.float32) for i in range(len(TEXTS))]
    targets = [i % len(labels) for i in range(len(TEXTS))]
    eval_sound = np.full((len(TEXTS), len(labels)), 0.2, np.float32)
    eval_sound[np.arange(len(TEXTS)), targets] = 0.6
    part = train_words(labels, waves, targets, waves, targets, eval_sound, train_transcripts=TEXTS,
                       recogniser=str(recogniser), text_encoder=str(encoder), cache_dir=False)
    save_words(out, part.config, part.head)
    return out
