"""`IntentDesk --self-test`: proves an installation (frozen or not) can do the whole job, headless.

It builds a tiny random Wav2Vec2 model, makes a two-intent dataset of generated tones, trains
for a few steps, classifies a clip and prints one line. No network, no microphone, no display;
everything happens in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from intentdesk.core.audio.io import SAMPLE_RATE as RATE

TONES = {"low": 220.0, "high": 1760.0}


def _tone(freq: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.6 * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def tiny_wav2vec2(folder: Path) -> Path:
    """A randomly initialised, very small Wav2Vec2 saved as a Hugging Face folder (also the
    test suite's base model): trains in seconds and still learns tones apart."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32, 32), conv_stride=(5, 4, 4), conv_kernel=(10, 8, 4), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, classifier_proj_size=16, feat_extract_norm="layer",
        do_stable_layer_norm=False, mask_time_prob=0.0, layerdrop=0.0,
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
    )
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=RATE, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(folder)
    return folder


def run() -> str:
    """The report line; raises on any failure."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="intentdesk-selftest-") as tmp:
        root = Path(tmp)
        os.environ["INTENTDESK_CACHE"] = str(root / "cache")
        from intentdesk.core.data.store import DatasetStore
        from intentdesk.core.inference.classifier import Classifier
        from intentdesk.core.learning.settings import TrainSettings
        from intentdesk.core.learning.trainer import train

        store = DatasetStore.create(root / "data")
        for label, freq in TONES.items():
            for i in range(8):
                store.add_array(_tone(freq * (1 + 0.02 * i), seed=i), RATE, label)
        tiny_wav2vec2(root / "base")
        settings = TrainSettings(base_model=str(root / "base"), mode="full", epochs=6, learning_rate=3e-3,
                                 batch_size=4)
        result = train(store.root, root / "model", settings)
        classifier = Classifier(result.path)
        probe = root / "probe.wav"
        import soundfile as sf

        sf.write(probe, _tone(TONES["high"], seed=99), RATE)
        [answer] = classifier.classify_files([probe])
        if answer.error or not answer.ranking:
            raise RuntimeError(answer.error or "no ranking")
        import torch

        top = answer.ranking[0]
        return (f"IntentDesk self-test OK: trained {len(result.history)} epochs on {len(store.clips)} clips "
                f"(eval accuracy {result.accuracy:.2f}), classified a {TONES['high']:g} Hz tone as "
                f"'{top.label}' ({top.score:.2f}) in {answer.latency_ms:.0f} ms [{classifier.precision}], "
                f"torch {torch.__version__}, {time.perf_counter() - started:.1f} s")
