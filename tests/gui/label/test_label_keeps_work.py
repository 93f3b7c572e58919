"""Label tab traps a newcomer walked into (issue #25): nothing may mislabel a clip or lose one, and
nothing may start work nobody asked for."""

import json

import pytest

from intentdesk.core.data.store import DatasetStore
from tests.helpers import RATE, tone


@pytest.fixture
def tab(label_tab):
    return label_tab


def save_take(tab, label: str, seed: int = 0) -> None:
    tab.take.set_pending(tone(400 + 30 * seed, 0.5, seed=seed))
    tab.take.label_combo.setEditText(label)
    tab.save_take()


# ---------------------------------------------------------------- 1: key numbers survive a restart
def test_label_keys_keep_their_numbers_after_the_dataset_is_opened_again(qtbot, tab, tmp_path):
    tab.set_dataset(DatasetStore.create(tmp_path / "data"))
    for n, label in enumerate(["balance", "freeze", "abroad"]):  # numbered as they come, not by name
        save_take(tab, label, seed=n)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))  # what a restart does
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"
    assert tab.take.pick_label(1) and tab.take.label() == "balance"
    assert json.loads((tmp_path / "data" / "label_keys.json").read_text())["numbers"] == {
        "balance": 1, "freeze": 2, "abroad": 3}


def test_a_label_whose_clips_were_all_deleted_frees_its_number_at_the_next_opening(qtbot, tab, tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    tab.set_dataset(store)
    for n, label in enumerate(["balance", "freze", "abroad"]):
        save_take(tab, label, seed=n)
    store.delete([c.file_name for c in store.clips if c.label == "freze"])
    tab.refresh()
    assert tab.keys.number_of("freze") == 2, "kept while the dataset is open: Ctrl+Z may bring the clip back"
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))
    assert tab.take.key_hint.text() == "Keys: 1=balance  3=abroad", "the others keep their numbers"
    save_take(tab, "freeze", seed=5)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad", "a new label takes the free number"


def test_a_dataset_from_before_numbers_were_kept_is_numbered_by_name_once(qtbot, tab, tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    for n, label in enumerate(["freeze", "balance"]):
        store.add_array(tone(300 + 50 * n, 0.4, seed=n), RATE, label)
    tab.set_dataset(store)
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze"
    save_take(tab, "abroad")
    tab.set_dataset(DatasetStore.open(tmp_path / "data"))
    assert tab.take.key_hint.text() == "Keys: 1=balance  2=freeze  3=abroad"
