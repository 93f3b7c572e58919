"""Tiny random models for the words tests, built offline in a temporary folder (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPECIAL = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|translate|>",
           "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
WORDS = ["my", "card", "balance", "freeze", "pay", "bill", "hello", "weather", "the", "is", "what"]
TOY = {"freeze": ["block my card", "my card was stolen please block it", "i lost my card stop it", "freeze my card"],
       "balance": ["how much money do i have", "what is my balance", "my account balance please",
                   "how much is left in my account"],
       "pay_bill": ["pay my electricity bill", "pay the water bill", "i have a phone bill to pay", "pay a bill"]}


def byte_vocab() -> dict[str, int]:
    """GPT-2 style byte-level vocabulary: the 256 byte symbols, a few whole words, special tokens."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, extra = {}, 0
    for byte in range(256):  # GPT-2's byte-to-symbol table: printable bytes map to themselves
        if byte in printable:
            symbols[byte] = chr(byte)
        else:
            symbols[byte] = chr(256 + extra)
            extra += 1
    vocab = {symbol: i for i, symbol in enumerate(symbols.values())}
    for word in WORDS:
        vocab.setdefault("\u0120" + word, len(vocab))
    for token in SPECIAL:
        vocab[token] = len(vocab)
    return vocab


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizer

    folder = tmp_path_factory.mktemp("tiny-whisper")
    vocab = byte_vocab()
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), errors="replace")
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    tokenizer.save_pretrained(folder)
    ids = {token: vocab[token] for token in SPECIAL}
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
def toy_phrases() -> dict[str, list[str]]:
    return TOY


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    toy_words = sorted({w for texts in TOY.values() for text in texts for w in text.split()} - set(WORDS))
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + toy_words + ["rain", "sunny", "today", "will"]
    BertTokenizerFast(vocab={word: i for i, word in enumerate(words)}).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(folder)
    return folder
