"""Shared fixtures: tiny random models and small learnable datasets, made on the spot, offline."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.helpers import RATE, TONES, tone, write_tone_folder  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("INTENTDESK_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def tiny_wav2vec2(tmp_path_factory) -> Path:
    """The self-test's tiny random Wav2Vec2 (intentdesk.selftest), made once per session."""
    from intentdesk.selftest import tiny_wav2vec2 as make

    return make(tmp_path_factory.mktemp("tiny-wav2vec2"))


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    """A randomly initialised, very small Whisper encoder-decoder saved as a Hugging Face folder."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(
        vocab_size=64, num_mel_bins=16, d_model=32, encoder_layers=2, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=32, classifier_proj_size=16,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
    )
    folder = tmp_path_factory.mktemp("tiny-whisper")
    WhisperForConditionalGeneration(config).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=16).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def saved_classifier(tmp_path_factory, tiny_wav2vec2):
    """A classification folder with its head saved, so every load gives the same model."""
    import shutil

    from transformers import AutoModelForAudioClassification

    folder = tmp_path_factory.mktemp("classifier")
    AutoModelForAudioClassification.from_pretrained(tiny_wav2vec2, num_labels=3).save_pretrained(folder)
    shutil.copy(tiny_wav2vec2 / "preprocessor_config.json", folder)
    return folder


@pytest.fixture
def tone_folder(tmp_path) -> Path:
    return write_tone_folder(tmp_path / "tones")


@pytest.fixture
def tone_dataset(tmp_path, tone_folder):
    from intentdesk.core.data.importers import import_into
    from intentdesk.core.data.store import DatasetStore

    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(tone_folder))
    return store


@pytest.fixture(scope="session")
def saved_whisper_classifier(tmp_path_factory, tiny_whisper):
    """The tiny Whisper with a saved (random but fixed) classification head: a loadable trained model."""
    from transformers import AutoModelForAudioClassification, WhisperFeatureExtractor

    folder = tmp_path_factory.mktemp("whisper-classifier")
    AutoModelForAudioClassification.from_pretrained(tiny_whisper, num_labels=3).save_pretrained(folder)
    WhisperFeatureExtractor.from_pretrained(tiny_whisper).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tone_model(tmp_path_factory, tiny_wav2vec2) -> Path:
    """A model trained on the tone folder (labels high/low/mid): a real run folder with metrics."""
    from intentdesk.core.data.importers import import_into
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.learning.trainer import TrainSettings, train

    root = tmp_path_factory.mktemp("tone-model")
    store = DatasetStore.create(root / "data")
    import_into(store, str(write_tone_folder(root / "src", per_label=8)))
    settings = TrainSettings(base_model=str(tiny_wav2vec2), epochs=5, learning_rate=3e-3, head_learning_rate=3e-3,
                             batch_size=4, label_smoothing=0.0)
    return train(store.root, root / "model", settings).output_dir
