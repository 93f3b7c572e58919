"""The dataset's texts: clips' transcripts (columns of metadata.csv) and typed example phrases
(phrases.csv), changed like everything else in the store: under the lock, on what is on disk,
written atomically, through the store's public `change_rows` and `locked` (`store.texts`).

A transcript the user typed (`transcript_by` = "user") is never overwritten by a recogniser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from intentdesk.core.data.label_names import same_label
from intentdesk.core.data.metadata_csv import BY_USER, TRANSCRIPT, TRANSCRIPT_BY, Clip
from intentdesk.core.data.phrases import checked_texts, clean_text, read_phrases, write_phrases
from intentdesk.core.data.safety import validate_label
from intentdesk.core.errors import DatasetError

if TYPE_CHECKING:
    from intentdesk.core.data.store import DatasetStore


class DatasetTexts:
    """Transcripts and phrases of one `DatasetStore` (`store.texts`)."""

    def __init__(self, store: DatasetStore) -> None:
        self.store = store

    def set_transcripts(self, texts: dict[str, str], by: str) -> int:
        """Store transcripts (file_name -> text) written by `by` ("user" or a recogniser's id).

        A recogniser never replaces a user's correction; unknown file names (clips deleted
        meanwhile) are skipped. Returns how many rows changed."""
        by = str(by or "").strip()
        if not by:
            raise DatasetError("a transcript needs its author: 'user' or the recogniser's id")
        changed = 0

        def with_texts(rows: list[Clip]) -> list[Clip] | None:
            nonlocal changed
            clips = []
            for clip in rows:
                text = texts.get(clip.file_name)
                if text is None or (by != BY_USER and clip.transcript_by == BY_USER):
                    clips.append(clip)
                    continue
                text = clean_text(text)
                if clip.transcript == text and clip.transcript_by == by:
                    clips.append(clip)
                    continue
                clips.append(Clip(clip.file_name, clip.label, {**clip.extra, TRANSCRIPT: text, TRANSCRIPT_BY: by}))
                changed += 1
            return clips if changed else None

        self.store.change_rows(with_texts)
        return changed

    def phrases(self) -> list[tuple[str, str]]:
        """The typed example phrases, (label, text) in the order they were added."""
        return read_phrases(self.store.root)

    def add_phrases(self, label: str, texts: list[str]) -> int:
        """Add typed examples for `label` (a label that may have no clips yet); blank texts and ones
        already there are skipped. A label that differs from one the dataset has (clips or phrases) only in
        spaces or letter case is that one ("Balance " is "balance": never a second intent). Returns how many
        were added."""
        label = validate_label(label)
        new = checked_texts(texts)
        with self.store.locked():
            pairs = read_phrases(self.store.root)
            label = same_label(label, [*self.store.labels(), *(known for known, _ in pairs)])
            seen = {(lab, text.casefold()) for lab, text in pairs}
            added = []
            for text in new:
                if (label, text.casefold()) not in seen:
                    seen.add((label, text.casefold()))
                    added.append((label, text))
            if added:
                write_phrases(self.store.root, pairs + added)
        return len(added)

    def remove_phrases(self, pairs: list[tuple[str, str]]) -> int:
        """Remove typed examples given as (label, text); returns how many were removed."""
        doomed = {(label, clean_text(text)) for label, text in pairs}
        with self.store.locked():
            current = read_phrases(self.store.root)
            kept = [pair for pair in current if pair not in doomed]
            if len(kept) != len(current):
                write_phrases(self.store.root, kept)
        return len(current) - len(kept)
