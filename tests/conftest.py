"""Shared fixtures: tiny random models and small learnable datasets, made on the spot, offline."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The models here are tiny: torch's worker threads only spin against each other (and against everything else
# on a loaded machine), so one thread does the same work in a third of the CPU time and wall time. Set before
# torch is imported; the CLI and self-test subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Hypothesis times each example (200 ms by default) and calls a slow one an error: on a loaded machine
# that fails tests that are right. What is under test is the answers, never their speed.
settings.register_profile("intentdesk", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("intentdesk")

from tests.helpers import RATE, TONES, tone, write_tone_folder  # noqa: E402,F401
from tests.patient_qtbot import make_qtbot_waits_patient  # noqa: E402

make_qtbot_waits_patient()


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


# ------------------------------------------ the words part (issue #14): tiny recogniser + text encoder
WORDS_SPECIAL = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|translate|>",
                 "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
WORDS_VOCAB = ["my", "card", "balance", "freeze", "pay", "bill", "hello", "weather", "the", "is", "what",
               "high", "low", "mid", "tone", "please"]


def _byte_vocab() -> dict[str, int]:
    """GPT-2 style byte-level vocabulary: the 256 byte symbols, a few whole words, special tokens."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            symbols[byte] = chr(byte)
        else:
            symbols[byte] = chr(256 + extra)
            extra += 1
    vocab = {symbol: i for i, symbol in enumerate(symbols.values())}
    for word in WORDS_VOCAB:
        vocab.setdefault("\u0120" + word, len(vocab))
    for token in WORDS_SPECIAL:
        vocab[token] = len(vocab)
    return vocab


@pytest.fixture(scope="session")
def tiny_recogniser(tmp_path_factory) -> Path:
    """A tiny random Whisper speech recogniser WITH a tokenizer (usable as `--asr`), offline."""
    import json

    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizer

    folder = tmp_path_factory.mktemp("tiny-recogniser")
    vocab = _byte_vocab()
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), errors="replace")
    tokenizer.add_special_tokens({"additional_special_tokens": WORDS_SPECIAL[1:]})
    tokenizer.save_pretrained(folder)
    ids = {token: vocab[token] for token in WORDS_SPECIAL}
    config = WhisperConfig(vocab_size=len(vocab), num_mel_bins=80, d_model=16, encoder_layers=1, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                           decoder_ffn_dim=32, max_source_positions=1500, max_target_positions=64,
                           decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
                           pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"])
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    generation = model.generation_config
    generation.decoder_start_token_id = ids["<|startoftranscript|>"]
    generation.eos_token_id = ids["<|endoftext|>"]
    generation.pad_token_id = ids["<|endoftext|>"]
    generation.no_timestamps_token_id = ids["<|notimestamps|>"]
    generation.is_multilingual = False
    generation.forced_decoder_ids = [[1, ids["<|notimestamps|>"]]]
    model.save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_text_encoder(tmp_path_factory) -> Path:
    """A tiny random BERT sentence encoder (usable as `--text-encoder`), offline."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-text-encoder")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS_VOCAB + [
        "block", "stolen", "lost", "money", "account", "left", "electricity", "water", "phone", "to", "do", "i",
        "have", "how", "much", "in", "a", "it", "stop", "was", "rain", "sunny", "today", "will", "sound", "beep"]
    BertTokenizerFast(vocab={word: i for i, word in enumerate(dict.fromkeys(words))}).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(dict.fromkeys(words)), hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def saved_words_classifier(tmp_path_factory, saved_classifier, tiny_recogniser, tiny_text_encoder) -> Path:
    """`saved_classifier` with a words part (tiny recogniser + text encoder) beside it (tests/words_models.py)."""
    from tests.words_models import make_words_model

    return make_words_model(saved_classifier, tmp_path_factory.mktemp("words-classifier") / "model",
                            tiny_recogniser, tiny_text_encoder)


@pytest.fixture
def label_tab(qtbot, tmp_path):
    """A Label tab alone, shown at a usual size, with a replayed microphone (a tone)."""
    import soundfile as sf

    from intentdesk.core.audio.microphone import InputDevice
    from intentdesk.core.audio.replay import replay_factory
    from intentdesk.gui.common.microphone import Microphone
    from intentdesk.gui.label.tab import LabelTab

    sf.write(tmp_path / "mic.wav", tone(400, 1.0), RATE)
    microphone = Microphone(lambda: [InputDevice(-1, "Replay")], replay_factory(tmp_path / "mic.wav", speed=4.0))
    widget = LabelTab(microphone)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()
    microphone.close()
