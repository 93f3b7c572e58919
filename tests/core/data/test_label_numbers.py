"""Label key numbers kept in the dataset (label_keys.json): given once, shared by every window."""

import json

from intentdesk.core.data.label_numbers import read_numbers
from intentdesk.core.data.store import DatasetStore


def test_two_windows_on_one_dataset_never_give_one_number_twice(tmp_path):
    first, second = DatasetStore.create(tmp_path / "data"), DatasetStore.open(tmp_path / "data")
    assert first.label_numbers.number(["balance"]) == {"balance": 1}
    assert second.label_numbers.number(["freeze"]) == {"balance": 1, "freeze": 2}, "re-read under the lock"
    assert first.label_numbers.number(["balance", "abroad"]) == {"balance": 1, "freeze": 2, "abroad": 3}


def test_a_damaged_file_means_no_numbers_yet_and_is_replaced(tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    (tmp_path / "data" / "label_keys.json").write_text('{"numbers": {"a": 1, "b": 1, "c": "x"')
    assert read_numbers(store.root) == {}
    assert store.label_numbers.number(["a", "b"]) == {"a": 1, "b": 2}
    assert json.loads((tmp_path / "data" / "label_keys.json").read_text()) == {"numbers": {"a": 1, "b": 2}}
    (tmp_path / "data" / "label_keys.json").write_text('{"numbers": {"a": 1, "b": 1, "c": true, "d": 4}}')
    assert read_numbers(store.root) == {"a": 1, "d": 4}, "a number given twice or not a number is dropped"
    (tmp_path / "data" / "label_keys.json").write_text("[" * 100_000)
    assert read_numbers(store.root) == {}, "nested too deep: no numbers, no RecursionError"
