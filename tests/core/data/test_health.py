"""Dataset health without Qt: what blocks training, and what only deserves a warning."""

from __future__ import annotations

from intentdesk.core.data.health import label_warnings, training_blockers
from intentdesk.core.data.store import DatasetStore
from tests.helpers import tone


def test_balanced_labels_with_enough_clips_have_no_warning():
    assert label_warnings({"a": 5, "b": 6}) == []


def test_thin_labels_are_named_with_their_counts():
    assert label_warnings({"a": 4, "b": 5, "c": 3}) == ["fewer than 5 clips: a (4), c (3)"]


def test_strong_imbalance_names_the_largest_and_smallest_label():
    assert label_warnings({"big": 16, "small": 5}) == ["imbalanced: big has 16 clips, small only 5"]
    assert label_warnings({"big": 15, "small": 5}) == []  # exactly 3x is still fine


def test_one_label_is_a_blocker_not_an_imbalance(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    for n in range(5):
        store.add_array(tone(300 + 50 * n, 0.3), 16000, "only")
    assert label_warnings(store.label_counts()) == []
    assert training_blockers(store) == ["the dataset has 1 label(s); at least 2 are needed to learn to tell them apart"
                                        " (or type how people say each intent, and learn from the words)"]
    store.texts.add_phrases("other", ["something else entirely"])  # typed only: counts when learning from the words
    assert training_blockers(store, words=True) == []
    assert training_blockers(store) != []


def test_typed_phrases_alone_train_a_words_only_model(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    assert "the dataset has 0 label(s)" in training_blockers(store, words=True)[0]
    store.texts.add_phrases("balance", ["what is my balance"])
    store.texts.add_phrases("freeze", ["freeze my card"])
    assert training_blockers(store, words=True) == []
    assert "the dataset has 0 label(s)" in training_blockers(store)[0]
