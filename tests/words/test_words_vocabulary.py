"""Whisper's last layer in bfloat16 with a float32 shortlist (core/words/vocabulary.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from intentdesk.core.words import asr, vocabulary
from intentdesk.core.words.asr import Transcriber
from intentdesk.core.words.vocabulary import SHORTLIST, ShortlistedVocabulary, fast_vocabulary, vocabulary_swapped


def projection(tokens: int = 3000, width: int = 64) -> torch.nn.Linear:
    torch.manual_seed(0)
    layer = torch.nn.Linear(width, tokens, bias=False)
    torch.nn.init.normal_(layer.weight, std=0.5)
    return layer


def test_the_best_tokens_score_exactly_and_greedy_decoding_picks_the_same_token():
    layer = projection()
    blocked = torch.zeros(layer.out_features, dtype=torch.bool)
    blocked[[3, 40, 2999]] = True
    hidden = torch.randn(4, 25, layer.in_features) * 3  # (batch, positions, width), as the decoder gives it
    with torch.inference_mode():
        exact = layer(hidden[:, -1:]).masked_fill(blocked, -float("inf"))  # decoding reads the last position's
        scores = ShortlistedVocabulary(layer, blocked)(hidden)
    assert scores.shape == (4, 1, layer.out_features) and scores.dtype == torch.float32
    assert torch.equal(scores.argmax(-1), exact.argmax(-1))
    best = exact.topk(SHORTLIST // 2, dim=-1).indices  # (the shortlist's last places may differ from float32's)
    torch.testing.assert_close(scores.gather(-1, best), exact.gather(-1, best), rtol=1e-5, atol=1e-5)
    assert torch.isinf(scores[..., [3, 40, 2999]]).all()
    rest = torch.ones_like(exact, dtype=torch.bool).scatter_(-1, best, False) & ~blocked
    rough = (scores - exact)[rest].abs()
    assert rough.max() > 0, "outside the shortlist the scores are bfloat16's, not recomputed"
    assert rough.max() < 0.5


def test_the_shortlist_is_used_only_where_it_is_faster(monkeypatch):
    layer = projection()
    timings = iter([1.0, 0.5])  # the plain layer, then the shortlist
    monkeypatch.setattr(vocabulary, "_seconds", lambda *_: next(timings))
    assert fast_vocabulary(torch.nn.Module(), None) is None  # no vocabulary layer at all
    model = torch.nn.Module()
    model.proj_out = layer
    assert isinstance(fast_vocabulary(model, None), ShortlistedVocabulary)
    timings = iter([1.0, 0.9])
    monkeypatch.setattr(vocabulary, "_seconds", lambda *_: next(timings))
    assert fast_vocabulary(model, None) is None


def test_a_projection_with_a_bias_or_no_bfloat16_keeps_the_plain_layer(monkeypatch):
    model = torch.nn.Module()
    model.proj_out = torch.nn.Linear(8, 50, bias=True)
    assert fast_vocabulary(model, None) is None
    model.proj_out = projection()

    def no_kernel(*_args):
        raise RuntimeError("\"addmm\" not implemented for 'BFloat16'")

    monkeypatch.setattr(vocabulary, "_seconds", no_kernel)
    assert fast_vocabulary(model, None) is None


def test_the_swap_lasts_for_the_block_only():
    model = torch.nn.Module()
    own = model.proj_out = projection()
    layer = ShortlistedVocabulary(own, None)
    with pytest.raises(ValueError), vocabulary_swapped(model, layer):
        assert model.proj_out is layer
        raise ValueError("a failure inside")
    assert model.proj_out is own
    with vocabulary_swapped(model, None):
        assert model.proj_out is own


def test_transcripts_with_the_shortlist_are_those_of_the_plain_layer(tiny_whisper, monkeypatch):
    """Greedy decoding writes the same text; the no-speech check reads the plain layer; a beam search keeps
    it (beams rank every score)."""
    monkeypatch.setattr(vocabulary, "FASTER_BY", float("inf"))  # use the shortlist here whatever the timing says
    clips = [np.random.default_rng(i).standard_normal(int(16000 * s)).astype(np.float32) * 0.1
             for i, s in enumerate((1.0, 1.6, 2.3))]
    fast = Transcriber(str(tiny_whisper), cache_dir=False, prompt="my card, balance.")
    plain = Transcriber(str(tiny_whisper), cache_dir=False, prompt="my card, balance.")
    assert isinstance(fast._vocabulary, ShortlistedVocabulary)
    plain._vocabulary = None
    used = []
    fast._vocabulary.register_forward_hook(lambda *_: used.append(1))
    assert fast.transcribe(clips) == plain.transcribe(clips)
    assert used, "the shortlist wrote the transcripts"
    assert fast.fingerprint == plain.fingerprint, "the same transcripts: the cache stays valid"
    model = fast._parts[0]
    assert isinstance(model.proj_out, torch.nn.Linear), "the model's own layer is back after decoding"
    features = fast._parts[1]
    mel = features(clips[:1], sampling_rate=asr.RATE, return_tensors="pt", padding="max_length",
                   max_length=2 * asr.RATE, truncation=True).input_features
    with torch.inference_mode(), asr.whisper_window(model, mel.shape[-1] // 2):
        heard = model.get_encoder()(mel).last_hidden_state
        assert fast.no_speech(heard) == plain.no_speech(heard)
    assert Transcriber(str(tiny_whisper), cache_dir=False, num_beams=2)._vocabulary is None
