"""Text encoder and words head: unit rows, the cache, a head that learns a toy task."""

from __future__ import annotations

import numpy as np
import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.words.head import WordsHead, distinct_rows, train_head
from intentdesk.core.words.text_encoder import TextEncoder


def test_embeddings_are_unit_rows_and_cached(tiny_bert, tmp_path, monkeypatch):
    encoder = TextEncoder(str(tiny_bert), cache_dir=tmp_path)
    rows = encoder.encode(["My card!", "my card", "what is the weather", ""])
    assert rows.shape == (4, 32) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(rows[0], rows[1])  # normalised text: same input
    again = TextEncoder(str(tiny_bert), cache_dir=tmp_path)
    monkeypatch.setattr(again, "_embed", lambda texts: pytest.fail("should come from the cache"))
    np.testing.assert_array_equal(again.encode(["my card", "what is the weather"]), rows[1:3])
    assert again.encode([]).shape == (0, 32)


def test_text_encoder_errors_name_the_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="text encoder.*config.json"):
        TextEncoder(str(tmp_path / "empty"), cache_dir=False)


def toy_embeddings(rng, n_per_label=30, dim=16, noise=0.35):
    centres = rng.standard_normal((3, dim))
    labels = np.repeat(np.arange(3), n_per_label)
    x = centres[labels] + noise * rng.standard_normal((len(labels), dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def test_head_learns_a_learnable_task():
    rng = np.random.default_rng(0)
    x, y = toy_embeddings(rng)
    test_x, test_y = toy_embeddings(np.random.default_rng(0), noise=0.35)
    head = train_head(x, y, ["a", "b", "c"])
    probabilities = head.probabilities(test_x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities.argmax(axis=1) == test_y).mean() > 0.95
    assert head.info["examples"] == 90 and "seconds" in head.info  # (a duration is never negative)
    np.testing.assert_allclose(head.max_similarity(x[:5]), 1.0, atol=1e-5)  # seen texts


def test_head_learns_toy_phrases_with_the_tiny_encoder(tiny_bert, toy_phrases):
    encoder = TextEncoder(str(tiny_bert), cache_dir=False)
    texts = [t for label in toy_phrases for t in toy_phrases[label]]
    labels = np.array([i for i, label in enumerate(toy_phrases) for _ in toy_phrases[label]])
    head = train_head(encoder.encode(texts), labels, list(toy_phrases), weight_decay=1e-5)
    assert (head.probabilities(encoder.encode(texts)).argmax(axis=1) == labels).mean() == 1.0


def test_head_is_deterministic_and_ignores_missing_labels():
    x, y = toy_embeddings(np.random.default_rng(1))
    one, two = train_head(x, y, ["a", "b", "c", "never"]), train_head(x, y, ["a", "b", "c", "never"])
    np.testing.assert_array_equal(one.weight, two.weight)
    assert (one.probabilities(x).argmax(axis=1) != 3).all()
    with pytest.raises(ValueError, match="label indices"):
        train_head(x, y + 5, ["a", "b", "c"])


def test_distinct_rows_and_tensor_round_trip():
    x = np.eye(3, dtype=np.float32)[[0, 0, 1, 2, 2]]
    bank, labels = distinct_rows(x, np.array([0, 0, 1, 2, 1]))
    assert len(bank) == 4 and sorted(labels.tolist()) == [0, 1, 1, 2]
    head = train_head(*toy_embeddings(np.random.default_rng(2)), ["a", "b", "c"])
    copy = WordsHead.from_tensors(head.labels, head.tensors())
    np.testing.assert_array_equal(copy.weight, head.weight)
    with pytest.raises(ModelError, match="weight.* does not fit 2 labels"):
        WordsHead.from_tensors(["a", "b"], head.tensors())
