"""`phrases.csv`: example sentences typed for each intent (no recording), beside metadata.csv.

    DATA/phrases.csv    label,text   one typed example per row (UTF-8)

`load_dataset("audiofolder")` ignores the file (it is not audio and not metadata), so the dataset
still loads; the words part of a model trains on these texts as well as the clips' transcripts.
Read strictly like metadata.csv (same CSV rules), written atomically under the dataset lock by
`DatasetStore.add_phrases` / `remove_phrases`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from intentdesk.core.csv_cells import safe_cell
from intentdesk.core.data import PHRASES
from intentdesk.core.data.metadata_csv import CsvLimits, check_rows_fit, read_metadata_table
from intentdesk.core.data.safety import label_problem
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import atomic_open

COLUMNS = ("label", "text")
MAX_TEXT_CHARS = 500
# Tens of phrases per intent are typical; 50,000 of the longest phrases would be 25 MB, so the file is
# refused from its size before that.
LIMITS = CsvLimits(8 << 20, 50_000, "phrases", "remove some phrases")


def clean_text(text: str) -> str:
    """One line, single spaces: what is stored for a typed phrase ("" when nothing is left)."""
    return " ".join(str(text or "").split())


def read_phrases(root: Path, skipped: list[str] | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs of `root/phrases.csv`, in file order ([] when there is none). A bad row is an error,
    or, with `skipped` (another dataset's phrases, being imported), left out and said there."""
    path = Path(root) / PHRASES
    if not path.exists():
        return []
    if path.is_symlink() or not path.is_file():
        raise DatasetError(f"{path}: is not a regular file; IntentDesk rewrites it, so replace it with a copy")
    columns, rows = read_metadata_table(path, LIMITS)
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; the header must be label,text")
    pairs = []
    for line, row in rows:
        label, text = (row.get("label") or "").strip(), clean_text(row.get("text") or "")
        problem = label_problem(label)
        if problem is None and len(text) > MAX_TEXT_CHARS:
            problem = f"has a phrase of {len(text):,} characters, over the {MAX_TEXT_CHARS} a phrase may have"
        if problem is not None:
            message = f"{path}, line {line}: the row {problem}; fix or remove that row"
            if skipped is None:
                raise DatasetError(message)
            skipped.append(message)
            continue
        if text:
            pairs.append((label, text))
    return pairs


def write_phrases(root: Path, pairs: Iterable[tuple[str, str]]) -> None:
    """Replace `root/phrases.csv` atomically (removed when there are no phrases left)."""
    path = Path(root) / PHRASES
    pairs = list(pairs)
    if not pairs:
        if path.is_file():
            path.unlink()
        return
    rows = [[safe_cell(label), safe_cell(text)] for label, text in pairs]
    check_rows_fit(path, rows, LIMITS)
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def checked_texts(texts: Iterable[str]) -> list[str]:
    """Typed texts cleaned, empty ones dropped, too long ones refused with the start of the text."""
    kept = []
    for text in texts:
        text = clean_text(text)
        if len(text) > MAX_TEXT_CHARS:
            raise DatasetError(f"the phrase {text[:40]!r}... is longer than {MAX_TEXT_CHARS} characters; "
                               "type one short sentence per phrase")
        if text:
            kept.append(text)
    return kept
