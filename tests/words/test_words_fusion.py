"""Fusion math, temperature fitting and the out-of-scope rule."""

from __future__ import annotations

import numpy as np
import pytest

from intentdesk.core.words import fusion


def random_probabilities(rng, n=200, k=4, sharpness=3.0):
    logits = sharpness * rng.standard_normal((n, k))
    return fusion.softmax(logits), logits


def test_weights_zero_and_one_give_each_expert():
    rng = np.random.default_rng(0)
    sound, _ = random_probabilities(rng)
    words, _ = random_probabilities(rng)
    np.testing.assert_allclose(fusion.fuse(sound, words, 0.0), sound, atol=1e-5)
    np.testing.assert_allclose(fusion.fuse(sound, words, 1.0), words, atol=1e-5)
    np.testing.assert_allclose(fusion.fuse(sound, words, 0.0, t_sound=2.0), fusion.scale(sound, 2.0), atol=1e-5)
    fused = fusion.fuse(sound, words, 0.5)
    np.testing.assert_allclose(fused.sum(axis=1), 1.0, atol=1e-5)
    expected = fusion.softmax(0.5 * np.log(sound) + 0.5 * np.log(words))
    np.testing.assert_allclose(fused, expected, atol=1e-5)


def test_agreeing_experts_get_more_confident():
    sound = np.array([[0.6, 0.3, 0.1]])
    both = fusion.fuse(sound, sound, 0.5, 0.5, 0.5)  # product of two calibrated opinions (T=0.5 each)
    assert both[0, 0] > sound[0, 0]


def test_fit_temperature_recovers_overconfidence():
    rng = np.random.default_rng(1)
    _, logits = random_probabilities(rng, n=4000, sharpness=2.0)
    labels = np.array([rng.choice(4, p=p) for p in fusion.softmax(logits)])  # calibrated at T=1
    overconfident = fusion.softmax(3.0 * logits)
    t = fusion.fit_temperature(overconfident, labels)
    assert 2.5 < t < 3.6
    assert fusion.nll(fusion.scale(overconfident, t), labels) < fusion.nll(overconfident, labels)


def test_a_separable_eval_split_is_not_sharpened_past_the_floor():
    rng = np.random.default_rng(3)
    _, logits = random_probabilities(rng, n=300, sharpness=2.0)
    labels = logits.argmax(axis=1)  # every clip right: the NLL keeps falling as T -> 0
    t = fusion.fit_temperature(fusion.softmax(logits), labels)
    assert t == pytest.approx(fusion.MIN_TEMPERATURE)
    drawn = np.array([rng.choice(4, p=p) for p in fusion.softmax(logits)])  # calibrated at T=1
    underconfident = fusion.softmax(0.5 * logits)  # a real need to sharpen (T=0.5), above the floor, is met
    assert 0.4 < fusion.fit_temperature(underconfident, drawn) < 0.6


def test_share_threshold_and_uncertain_rule():
    values = np.linspace(0, 1, 101)
    assert abs(fusion.share_threshold(values, 0.03) - 0.03) < 1e-9
    assert (values < fusion.share_threshold(values, 0.03)).mean() <= 0.03
    settings = fusion.FusionSettings(words_weight=0.6, t_sound=0.5, t_words=0.7, min_similarity=0.4, min_top=0.5)
    fused = np.array([[0.9, 0.1], [0.55, 0.45], [0.4, 0.6], [0.9, 0.1]])
    similarity = np.array([0.9, 0.9, 0.9, 0.2])
    assert settings.uncertain(fused, similarity).tolist() == [False, False, False, True]
    settings.min_top = 0.58
    assert settings.uncertain(fused, similarity).tolist() == [False, True, False, True]
    again = fusion.FusionSettings.from_dict({**settings.to_dict(), "unknown": 1})
    assert again == settings


def test_other_intent_similarity_ignores_the_clips_own_intent():
    bank = np.eye(3, dtype=np.float32)
    bank_labels = np.array([0, 1, 2])
    clips = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(fusion.other_intent_similarity(clips, np.array([0, 1]), bank, bank_labels), [0.0, 0.6])


def test_widen_gives_intents_the_sound_model_never_heard_what_it_is_unsure_about():
    sure, unsure = [0.9, 0.05, 0.05], [0.4, 0.3, 0.3]
    wide = fusion.widen(np.array([sure, unsure]), 5)
    assert wide.shape == (2, 5) and np.allclose(wide.sum(axis=1), 1.0)
    assert np.allclose(wide[0, 3:], 0.05) and np.allclose(wide[1, 3:], 0.3)  # (1 - top) split between the two
    assert np.allclose(wide[0, :3] / wide[0, :3].sum(), sure)  # the heard ones keep their proportions
    assert fusion.widen(np.array([sure]), 3).tolist() == [sure]  # nothing unheard: unchanged
    fused = fusion.fuse(np.array([unsure]), np.array([[0.02, 0.02, 0.02, 0.9, 0.04]]), 0.7)
    assert fused.shape == (1, 5) and fused[0].argmax() == 3  # the words name an intent only they know
