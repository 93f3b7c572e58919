"""The background sentences and the out-of-scope margin: a text nearer small talk than any intent is uncertain."""

from __future__ import annotations

import numpy as np
import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.words import background, fusion
from intentdesk.core.words.head import WordsHead
from intentdesk.core.words.pipeline import calibrate

DIM = 8


def unit(rows) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def axis(i: int, wobble: float = 0.0, toward: int = 7) -> np.ndarray:
    """A unit vector along axis `i`, tilted by `wobble` toward axis `toward`."""
    row = np.zeros(DIM, np.float32)
    row[i], row[toward] = 1.0, wobble
    return unit(row)


def test_the_shipped_list_is_read_without_comments_or_blanks():
    phrases = background.background_phrases()
    assert len(phrases) >= 300
    assert all(phrase and not phrase.startswith("#") for phrase in phrases)
    assert "hello, is anyone there" in phrases


def test_sentences_that_are_a_wording_of_a_training_text_are_left_out():
    training_bank = unit([axis(0), axis(1)])
    sentences = {"play some music": axis(0, 0.1), "what's the weather like": axis(5), "tell me a joke": axis(6)}
    bank = background.background_bank(lambda texts: np.stack([sentences[t] for t in texts]), training_bank,
                                      list(sentences))
    assert len(bank) == 2  # "play some music" is (nearly) a training text of this dataset: an intent here
    assert (bank @ training_bank.T).max() < background.SAME_MEANING


def test_no_list_gives_an_empty_bank_and_no_margin():
    bank = background.background_bank(lambda texts: pytest.fail("nothing to embed"), unit([axis(0)]), [])
    assert bank.shape == (0, DIM)
    head = head_with(background=None)
    assert head.background_margin(unit([axis(0)])) is None


def head_with(background: np.ndarray | None) -> WordsHead:
    """Three intents along axes 0-2 (two wordings each), background sentences along axes 4-6."""
    bank = unit([axis(0), axis(0, 0.5, 3), axis(1), axis(1, 0.5, 3), axis(2), axis(2, 0.5, 3)])
    weight = np.eye(3, DIM, dtype=np.float32) * 8.0
    return WordsHead(["a", "b", "c"], weight, np.zeros(3, np.float32), bank, np.array([0, 0, 1, 1, 2, 2]),
                     background=background)


def test_margin_flags_small_talk_but_not_new_wordings():
    head = head_with(unit([axis(4), axis(5), axis(6)]))
    small_talk = axis(5, 0.6, 2)      # a little like intent c, much more like a background sentence
    new_wording = axis(1, 0.9, 3)     # far from b's texts, but nothing in the background is nearer
    margin = head.background_margin(np.stack([small_talk, new_wording]))
    assert margin[0] < 0 < margin[1]

    settings = fusion.FusionSettings(min_similarity=0.0, min_top=0.0, min_margin=0.0)
    fused = np.full((2, 3), 1 / 3, np.float32)
    similarity = head.max_similarity(np.stack([small_talk, new_wording]))
    assert settings.uncertain(fused, similarity, margin).tolist() == [True, False]
    assert settings.uncertain(fused, similarity).tolist() == [False, False]  # no margin given: rule not applied
    settings.min_margin = None
    assert settings.uncertain(fused, similarity, margin).tolist() == [False, False]


def test_calibration_sets_the_margin_from_the_eval_split_only_with_a_background():
    eval_embeddings = unit([axis(i % 3, 0.2 * (i % 4), 3) for i in range(24)])
    eval_labels = np.arange(24) % 3
    transcripts = ["some words"] * 24
    sound = np.full((24, 3), 0.1, np.float32)
    sound[np.arange(24), eval_labels] = 0.8
    with_background, _ = calibrate(head_with(unit([axis(4), axis(5)])), eval_embeddings, transcripts, sound,
                                   eval_labels)
    without, _ = calibrate(head_with(None), eval_embeddings, transcripts, sound, eval_labels)
    assert without.min_margin is None
    assert with_background.min_margin is not None and -2.0 < with_background.min_margin < 2.0
    margins = head_with(unit([axis(4), axis(5)])).background_margin(eval_embeddings)
    assert (margins < with_background.min_margin).mean() <= 0.05  # in-scope eval clips stay answered


def test_settings_round_trip_and_older_configs_have_no_margin_rule():
    settings = fusion.FusionSettings(min_margin=-0.05)
    assert fusion.FusionSettings.from_dict(settings.to_dict()) == settings
    assert fusion.FusionSettings.from_dict(fusion.FusionSettings().to_dict()).min_margin is None
    older = {"words_weight": 0.8, "t_sound": 0.3, "t_words": 0.4, "min_similarity": 0.35, "min_top": 0.25}
    assert fusion.FusionSettings.from_dict(older).min_margin is None


def test_head_tensors_keep_the_background_and_reject_a_wrong_width():
    head = head_with(unit([axis(4), axis(5)]))
    again = WordsHead.from_tensors(head.labels, head.tensors())
    np.testing.assert_array_equal(again.background, head.background)
    tensors = head_with(None).tensors()
    assert "background" not in tensors and WordsHead.from_tensors(head.labels, tensors).background is None
    tensors["background"] = np.zeros((2, DIM + 1), np.float32)
    with pytest.raises(ModelError, match="background"):
        WordsHead.from_tensors(head.labels, tensors)
