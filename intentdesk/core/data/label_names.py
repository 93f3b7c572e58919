"""Which existing label a typed or folder-given name stands for, and which ones it only looks like.

"Balance " (a capital, a trailing space) is "balance": a second intent for it would split its clips
in two, and a model trained on that confuses the two halves. Differences that never make another
intent (spaces around or repeated inside, letter case) are settled here without a question;
names one or two typos away, or a plural of a label, are only *similar*: the person is asked.
"""

from __future__ import annotations

from collections.abc import Iterable

SHORTEST_COMPARED = 3  # "on"/"no": too short to call one a typo of the other


def tidy_label(name: str) -> str:
    """`name` without spaces around it and with single spaces inside."""
    return " ".join(str(name or "").split())


def same_label(name: str, existing: Iterable[str]) -> str:
    """The existing label `name` means when it differs only in spaces or letter case; else `name`, tidied."""
    tidy = tidy_label(name)
    existing = list(existing)
    if tidy in existing:
        return tidy
    return next((label for label in existing if tidy_label(label).casefold() == tidy.casefold()), tidy)


def similar_labels(name: str, existing: Iterable[str]) -> list[str]:
    """Existing labels that `name` (a new one) may be a typo or a plural of, the closest first:
    one edit away for names up to 5 characters, two for longer ones."""
    key = tidy_label(name).casefold()
    scored = []
    for label in existing:
        other = tidy_label(label).casefold()
        if other == key or min(len(other), len(key)) < SHORTEST_COMPARED:
            continue
        distance = 0.5 if _plural_of(key, other) or _plural_of(other, key) else _edit_distance(key, other)
        if distance <= (1 if min(len(other), len(key)) <= 5 else 2):
            scored.append((distance, label))
    return [label for _distance, label in sorted(scored)]


def _plural_of(word: str, base: str) -> bool:
    return word in (base + "s", base + "es") or (base.endswith("y") and word == base[:-1] + "ies")


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    if abs(len(a) - len(b)) > 2:
        return 3  # more than any limit used here
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
