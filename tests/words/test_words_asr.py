"""Transcriber plumbing on a tiny random Whisper: fitted windows, batching by window, the cache."""

from __future__ import annotations

import numpy as np
import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.words import asr
from intentdesk.core.words.asr import Transcriber


def waves(*seconds: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(int(asr.RATE * s)) * 0.1).astype(np.float32) for s in seconds]


def test_window_is_clip_plus_padding_rounded_up():
    assert asr.window_seconds_for(int(1.5 * asr.RATE), 2.0, 2.0) == 4.0
    assert asr.window_seconds_for(int(2.0 * asr.RATE), 2.0, 2.0) == 4.0
    assert asr.window_seconds_for(int(2.1 * asr.RATE), 2.0, 2.0) == 6.0
    assert asr.window_seconds_for(int(0.2 * asr.RATE), 2.0, 0.0) == 2.0
    assert asr.window_seconds_for(int(40 * asr.RATE), 2.0, 2.0) == 30.0


def test_text_helpers():
    assert asr.normalise_text("  Freeze my card, PLEASE! ") == "freeze my card please"
    assert asr.normalise_text("I'd like...") == "i'd like"
    assert asr.drop_repeats("I moved. I moved. I moved.") == "I moved."
    assert asr.drop_repeats("Hello. Bye. Hello.") == "Hello. Bye. Hello."
    assert asr.vocabulary_prompt(["direct_debit", "atm-limit"]) == "direct debit, atm limit."


def test_whisper_window_restores_the_model(tiny_whisper):
    t = Transcriber(str(tiny_whisper), cache_dir=False)
    model = t._parts[0]
    table = model.get_encoder().embed_positions
    with asr.whisper_window(model, 200):
        assert model.get_encoder().embed_positions.num_embeddings == 200
        assert model.config.max_source_positions == 200
    assert model.get_encoder().embed_positions is table
    assert model.config.max_source_positions == 1500


def test_batches_share_a_window(tiny_whisper):
    t = Transcriber(str(tiny_whisper), cache_dir=False, batch_size=2)
    clips = waves(1.0, 5.0, 1.5, 1.2, 5.5)
    batches = t._batches(list(range(len(clips))), clips)
    assert sorted(i for b in batches for i in b) == list(range(5))
    for batch in batches:
        assert len(batch) <= 2
        assert len({t.window_for(len(clips[i])) for i in batch}) == 1


def test_transcripts_are_cached_on_disk(tiny_whisper, tmp_path, monkeypatch):
    clips = waves(1.0, 2.5, 1.0)
    clips[2] = clips[0].copy()  # the same sound twice is recognised once
    first = Transcriber(str(tiny_whisper), cache_dir=tmp_path, prompt="my card, balance.")
    calls = []
    original = first._recognise
    monkeypatch.setattr(first, "_recognise", lambda w: calls.append(len(w)) or original(w))
    texts = first.transcribe(clips)
    assert len(texts) == 3 and texts[0] == texts[2] and sum(calls) == 2
    assert (tmp_path / "transcripts.sqlite").is_file()
    again = Transcriber(str(tiny_whisper), cache_dir=tmp_path, prompt="my card, balance.")
    monkeypatch.setattr(again, "_recognise", lambda w: pytest.fail("should come from the cache"))
    assert again.transcribe(clips) == texts
    other = Transcriber(str(tiny_whisper), cache_dir=tmp_path, prompt="")  # other settings, other key
    assert other.fingerprint != again.fingerprint


def test_padded_and_fitted_windows_both_run(tiny_whisper):
    clips = waves(1.0, 3.0)
    fitted = Transcriber(str(tiny_whisper), cache_dir=False, max_new_tokens=4).transcribe(clips)
    padded = Transcriber(str(tiny_whisper), cache_dir=False, fit_window=False, max_new_tokens=4).transcribe(clips)
    assert len(fitted) == len(padded) == 2 and all(isinstance(t, str) for t in fitted + padded)


def test_missing_recogniser_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="speech recogniser"):
        Transcriber(str(tmp_path / "nowhere"), cache_dir=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="speech recogniser.*config.json"):
        Transcriber(str(tmp_path / "empty"), cache_dir=False)


def test_comma_joined_loops_are_dropped():
    """tiny.en looped on a short clip with commas between the repeats, which escaped the sentence rule."""
    assert asr.drop_repeats("tell me a joke, tell me a joke, tell me a joke") == "tell me a joke,"
    assert asr.drop_repeats("Freeze my card, please, freeze it now.") == "Freeze my card, please, freeze it now."


def _multilingual(tiny_whisper, tmp_path):
    """The tiny recogniser as a multilingual Whisper: language and task tokens in its generation config."""
    import json
    import shutil

    folder = tmp_path / "multilingual"
    shutil.copytree(tiny_whisper, folder)
    vocab = json.loads((folder / "vocab.json").read_text())
    added = json.loads((folder / "added_tokens.json").read_text()) if (folder / "added_tokens.json").exists() else {}
    ids = {**vocab, **added}
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(is_multilingual=True, lang_to_id={"<|en|>": ids["<|en|>"]},
                  task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]})
    (folder / "generation_config.json").write_text(json.dumps(config))
    return folder


def test_a_multilingual_recogniser_is_told_the_language(tiny_whisper, tmp_path, monkeypatch):
    folder = _multilingual(tiny_whisper, tmp_path)
    told = Transcriber(str(folder), cache_dir=False)  # English by default
    guessing = Transcriber(str(folder), cache_dir=False, language="")
    assert told.language == "en" and guessing.language == ""
    assert told.fingerprint != guessing.fingerprint  # their transcripts are cached apart
    seen = {}
    original = told._parts[0].generate

    def generate(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(told._parts[0], "generate", generate)
    told.transcribe(waves(1.0))
    assert seen["language"] == "en" and seen["task"] == "transcribe"
    assert Transcriber(str(folder), cache_dir=False, language="English").language == "en"
    assert Transcriber(str(folder), cache_dir=False, language="auto").language == ""  # guesses per clip
    with pytest.raises(ModelError, match="does not know the language 'xx'"):
        Transcriber(str(folder), cache_dir=False, language="xx")


def test_an_english_only_recogniser_takes_english_and_refuses_other_languages(tiny_whisper):
    plain = Transcriber(str(tiny_whisper), cache_dir=False)
    assert plain.language == ""  # nothing to pass: .en models write English
    assert Transcriber(str(tiny_whisper), cache_dir=False, language="en").fingerprint == plain.fingerprint
    with pytest.raises(ModelError, match="understands English only, not 'de'"):
        Transcriber(str(tiny_whisper), cache_dir=False, language="de")


def _suppressing(tiny_whisper, tmp_path, tokens: list[int]):
    """The tiny recogniser with `tokens` in its generation config's suppress_tokens."""
    import json
    import shutil

    folder = tmp_path / "suppressing"
    shutil.copytree(tiny_whisper, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    config["suppress_tokens"] = tokens
    (folder / "generation_config.json").write_text(json.dumps(config))
    return folder


def test_a_clip_whisper_hears_no_speech_in_gets_no_words(tiny_whisper, monkeypatch):
    """Above the threshold the transcript is "" (nothing heard); below it, what the recogniser wrote. The
    encoder runs once per batch for both the transcripts and the no-speech check."""
    clips = waves(1.0, 1.1, 1.2)  # in the order they are batched (by length)
    everything = Transcriber(str(tiny_whisper), cache_dir=False, no_speech_threshold=None).transcribe(clips)
    assert all(everything), "the random recogniser writes something for every clip"
    checked = Transcriber(str(tiny_whisper), cache_dir=False, no_speech_threshold=0.5)
    assert checked.fingerprint != Transcriber(str(tiny_whisper), cache_dir=False, no_speech_threshold=None).fingerprint
    monkeypatch.setattr(checked, "no_speech", lambda heard: [0.9, 0.2, 0.51][: len(heard)])
    encoder_runs = []
    checked._parts[0].get_encoder().register_forward_hook(lambda *_: encoder_runs.append(1))
    assert checked.transcribe(clips) == ["", everything[1], ""]
    assert len(encoder_runs) == 1  # one batch (one window): one encoder pass


def test_the_no_speech_chance_is_whispers_no_speech_token_after_the_start_of_transcript(tiny_whisper):
    import torch

    transcriber = Transcriber(str(tiny_whisper), cache_dir=False, prompt="my card, balance.")  # (not read)
    model, features, tokenizer = transcriber._parts
    generation = model.generation_config
    assert tokenizer.convert_ids_to_tokens(generation.no_timestamps_token_id - 1) in ("<|nocaptions|>", "<|nospeech|>")
    clips = waves(1.0, 1.5)
    mel = features(clips, sampling_rate=asr.RATE, return_tensors="pt", padding="max_length",
                   max_length=2 * asr.RATE, truncation=True).input_features
    with torch.inference_mode(), asr.whisper_window(model, mel.shape[-1] // 2):
        chances = transcriber.no_speech(model.get_encoder()(mel).last_hidden_state)
        start = [[generation.decoder_start_token_id]] * 2
        whole = model(input_features=mel, decoder_input_ids=torch.tensor(start)).logits[:, -1].softmax(-1)
    np.testing.assert_allclose(chances, whole[:, generation.no_timestamps_token_id - 1].numpy(), rtol=1e-4)
    assert all(0.0 <= chance <= 1.0 for chance in chances)


def test_suppressed_tokens_are_masked_as_transformers_masks_them(tiny_whisper, tmp_path, monkeypatch):
    """The mask made once (`suppress.SuppressedTokens`) writes the transcripts transformers' own per-step
    suppression writes, and those differ from a recogniser that suppresses nothing."""
    clips = waves(1.0, 2.5, 1.7)
    free = Transcriber(str(tiny_whisper), cache_dir=False)
    model, _, tokenizer = free._parts
    written = {int(t) for text in free.transcribe(clips) for t in tokenizer(text, add_special_tokens=False).input_ids}
    assert written, "the random recogniser writes something to suppress"
    folder = _suppressing(tiny_whisper, tmp_path, sorted(written) + [10 ** 6])  # one beyond the vocabulary
    masked = Transcriber(str(folder), cache_dir=False)
    assert masked._suppressed is not None
    ours = masked.transcribe(clips)
    monkeypatch.setattr(asr, "suppressed_tokens", lambda model: None)
    theirs = Transcriber(str(folder), cache_dir=False)
    assert theirs._suppressed is None
    assert ours == theirs.transcribe(clips)
    assert ours != free.transcribe(clips)
    assert masked.fingerprint == theirs.fingerprint, "the same transcripts: the cache stays valid"


def test_the_mask_sets_exactly_the_suppressed_scores_to_minus_infinity():
    import torch
    from transformers import SuppressTokensLogitsProcessor

    from intentdesk.core.words.suppress import SuppressedTokens

    scores = torch.randn(3, 50)
    tokens = [0, 7, 49, 50, 900]
    ours = SuppressedTokens(tokens, 50)(torch.zeros(3, 1, dtype=torch.long), scores.clone())
    theirs = SuppressTokensLogitsProcessor(tokens)(torch.zeros(3, 1, dtype=torch.long), scores.clone())
    assert torch.equal(ours, theirs)
    assert torch.isinf(ours[:, [0, 7, 49]]).all() and torch.isfinite(ours[:, 1:7]).all()
