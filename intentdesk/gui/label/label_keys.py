"""Which label each key 1-9 picks: first come, first numbered, and never renumbered while the app runs."""

from __future__ import annotations

KEYS = 9


class LabelKeys:
    """Numbers labels in the order they arrive (the dataset's labels by name when it opens, then
    each new label at the end), so "2" keeps meaning the same label while the user works."""

    def __init__(self) -> None:
        self._order: list[str] = []

    def reset(self, labels: list[str]) -> None:
        """A dataset was opened: number its labels afresh."""
        self._order = list(labels)

    def update(self, labels: list[str]) -> None:
        """Labels seen for the first time get the next numbers; known ones keep theirs."""
        self._order += [label for label in labels if label not in self._order]

    def label_for(self, number: int) -> str | None:
        return self._order[number - 1] if 1 <= number <= min(KEYS, len(self._order)) else None

    def number_of(self, label: str) -> int | None:
        index = self._order.index(label) + 1 if label in self._order else None
        return index if index is not None and index <= KEYS else None

    def ordered(self) -> list[str]:
        """Every label, in key order."""
        return list(self._order)

    def hint(self) -> str:
        if not self._order:
            return "Type a label for the take and press Enter."
        return "Keys: " + "  ".join(f"{n}={label}" for n, label in enumerate(self._order[:KEYS], start=1))
