"""Which label each key 1-9 picks: the numbers the dataset keeps (core/data/label_numbers.py), so "2"
means the same label after a restart, and on another computer the dataset is copied to."""

from __future__ import annotations

import contextlib

from intentdesk.core.data.label_numbers import assign_numbers
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError

KEYS = 9


class LabelKeys:
    """label -> number, from the open dataset's `label_keys.json`; labels seen for the first time get
    the lowest free number there. A dataset that cannot be written (or is busy, or on a full disk) is
    numbered in memory: it cannot get new clips then either."""

    def __init__(self) -> None:
        self._store: DatasetStore | None = None
        self._numbers: dict[str, int] = {}

    def reset(self, store: DatasetStore | None) -> None:
        """A dataset was opened: its numbers; labels without clips any more free theirs now."""
        self._store, self._numbers = store, {}
        if store is not None:
            self._number(store.labels(), forget_others=True)

    def update(self, labels: list[str]) -> None:
        """Labels seen for the first time get numbers; known ones keep theirs (also when their last
        clip was deleted: Ctrl+Z may bring it back)."""
        if any(label not in self._numbers for label in labels):
            self._number(list(self._numbers) + [label for label in labels if label not in self._numbers])

    def _number(self, labels: list[str], forget_others: bool = False) -> None:
        numbers = assign_numbers(self._numbers, labels, forget_others=forget_others)  # if the dataset cannot keep them
        if self._store is not None:
            with contextlib.suppress(IntentDeskError):
                numbers = self._store.label_numbers.number(labels, forget_others=forget_others)
        self._numbers = numbers

    def label_for(self, number: int) -> str | None:
        if not 1 <= number <= KEYS:
            return None
        return next((label for label, n in self._numbers.items() if n == number), None)

    def number_of(self, label: str) -> int | None:
        number = self._numbers.get(label)
        return number if number is not None and number <= KEYS else None

    def ordered(self) -> list[str]:
        """Every label, in key order."""
        return sorted(self._numbers, key=self._numbers.__getitem__)

    def hint(self) -> str:
        keyed = [(self._numbers[label], label) for label in self.ordered() if self._numbers[label] <= KEYS]
        if not keyed:
            return "Type a label for the take and press Enter."
        return "Keys: " + "  ".join(f"{n}={label}" for n, label in keyed)
