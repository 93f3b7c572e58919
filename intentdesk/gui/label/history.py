"""What Ctrl+Z undoes on the Label tab: deletes and relabels, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field

from intentdesk.core.data.store import Clip, DatasetStore


@dataclass
class Relabel:
    """Clips that were given a new label: their file names now, grouped by the label they had."""

    old_labels: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(names) for names in self.old_labels.values())


class EditHistory:
    """This session's relabels and deletes, so Ctrl+Z undoes the latest edit whatever it was.

    Deletes live in the dataset's trash (they stay undoable after a restart); a relabel is undone
    by relabelling its clips back. With nothing left from this session, older trash batches are
    still offered.
    """

    def __init__(self) -> None:
        self._edits: list[Relabel | str] = []

    def clear(self) -> None:
        self._edits.clear()

    def relabel(self, store: DatasetStore, file_names: list[str], label: str) -> list[Clip]:
        """Relabel through the store and remember how to undo it."""
        before = {name: store.find(name).label for name in file_names}
        moved = store.relabel(file_names, label)
        changed = [name for name in dict.fromkeys(file_names) if before[name] != label]
        undo = Relabel()
        for old_name, clip in zip(changed, moved):
            undo.old_labels.setdefault(before[old_name], []).append(clip.file_name)
        if len(undo):
            self._edits.append(undo)
        return moved

    def delete(self, store: DatasetStore, file_names: list[str]) -> None:
        self._edits.append(store.delete(file_names))

    def can_undo(self, store: DatasetStore | None) -> bool:
        return store is not None and (bool(self._edits) or store.can_undo())

    def undo(self, store: DatasetStore) -> str:
        """Undo the latest edit; says what it did. IntentDeskError when the store refuses."""
        edit = self._edits[-1] if self._edits else None
        if isinstance(edit, Relabel):
            for label, names in edit.old_labels.items():
                store.relabel(names, label)
            self._edits.pop()
            return f"Gave {len(edit)} clip(s) their old label back."
        restored = store.undo_delete()
        if edit is not None:
            self._edits.pop()
        return f"Restored {len(restored)} clip(s)."
