"""`label_keys.json`: which number (the Label tab's keys 1-9) each label has, kept with the dataset.

    DATA/label_keys.json    {"numbers": {"balance": 1, "freeze": 2, ...}}

Numbers are given once and never change while the label has clips, across restarts and for
anyone the dataset is handed to: a person who pressed 2 for "freeze" yesterday must not label
"abroad" with it today. A new label gets the lowest free number. A label with no clips left keeps
its number while the dataset stays open (Ctrl+Z may bring its clips back) and frees it the next
time the dataset is opened. A dataset without the file numbers its labels by name, once.

`load_dataset("audiofolder")` ignores the file (not audio, not metadata). Written atomically under
the dataset lock by `store.label_numbers.number`; a missing or damaged file means "no numbers yet".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from intentdesk.core.data import LABEL_KEYS
from intentdesk.core.files import atomic_open

if TYPE_CHECKING:
    from intentdesk.core.data.store import DatasetStore

MAX_BYTES = 1 << 20  # a thousand labels take 30 KB


def read_numbers(root: Path) -> dict[str, int]:
    """The numbers stored in `root/label_keys.json` ({} when there is none or it cannot be read)."""
    path = Path(root) / LABEL_KEYS
    try:
        if path.stat().st_size > MAX_BYTES:  # a file handed around may be anything: never read a huge one
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    numbers = data.get("numbers") if isinstance(data, dict) else None
    if not isinstance(numbers, dict):
        return {}
    kept: dict[str, int] = {}
    for label, number in numbers.items():
        if isinstance(number, int) and not isinstance(number, bool) and number > 0 and number not in kept.values():
            kept[str(label)] = number
    return kept


def write_numbers(root: Path, numbers: dict[str, int]) -> None:
    """Replace `root/label_keys.json` atomically (labels in number order, so the file reads like the keys)."""
    ordered = dict(sorted(numbers.items(), key=lambda item: item[1]))
    with atomic_open(Path(root) / LABEL_KEYS, "w", encoding="utf-8") as handle:
        json.dump({"numbers": ordered}, handle, indent=1, ensure_ascii=False)


def assign_numbers(numbers: dict[str, int], labels: Iterable[str], *, forget_others: bool = False) -> dict[str, int]:
    """`numbers` with every label of `labels` numbered: known ones keep theirs, new ones (in the order
    given) take the lowest free number. With `forget_others`, labels not in `labels` free theirs."""
    labels = list(dict.fromkeys(labels))
    result = {label: n for label, n in numbers.items() if not forget_others or label in labels}
    taken = set(result.values())
    free = 1
    for label in labels:
        if label in result:
            continue
        while free in taken:
            free += 1
        result[label] = free
        taken.add(free)
    return result


class LabelNumbers:
    """The key numbers of one `DatasetStore`'s labels (`store.label_numbers`), changed under its lock."""

    def __init__(self, store: DatasetStore) -> None:
        self.store = store

    def number(self, labels: Iterable[str], *, forget_others: bool = False) -> dict[str, int]:
        """Give every label of `labels` a number, re-reading the file under the lock (another window may
        have numbered a label meanwhile); written only when something changed. `ReadOnly` when the
        dataset folder cannot be written (the caller numbers in memory then)."""
        labels = list(labels)
        stored = read_numbers(self.store.root)
        if assign_numbers(stored, labels, forget_others=forget_others) == stored:
            return stored  # nothing new: no lock, no write (this runs after every change in the Label tab)
        with self.store.locked():
            stored = read_numbers(self.store.root)
            numbers = assign_numbers(stored, labels, forget_others=forget_others)
            if numbers != stored:
                write_numbers(self.store.root, numbers)
        return numbers
