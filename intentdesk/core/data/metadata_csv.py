"""metadata.csv, read strictly and written atomically: one `Clip` per row, every column kept.

A file that would lose content when rewritten (values beyond the header, a column named twice,
text that is not UTF-8) is refused with the line it happens on, and every row must name a clip
under `clips/` with a usable label before the store works with it.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from intentdesk.core.csv_cells import plain_cell, safe_cell
from intentdesk.core.data import METADATA
from intentdesk.core.data.safety import file_name_problem, label_problem, os_message, path_problem
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import atomic_open
from intentdesk.core.json_files import TooLarge, read_bounded, size_text

REQUIRED_COLUMNS = ("file_name", "label")
TRANSCRIPT, TRANSCRIPT_BY = "transcript", "transcript_by"  # what was said; who wrote it ("user" or a recogniser)
BY_USER = "user"
_SAVE_AS_UTF8 = "save it as UTF-8 (in a spreadsheet: CSV UTF-8)"
Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class CsvLimits:
    """How much of a CSV file IntentDesk reads (and writes): its size, checked from the file's size before
    reading, and its rows. A value is at most `csv.field_size_limit()` characters (131,072)."""

    max_bytes: int
    max_rows: int
    rows: str  # what a row is, for messages ("clips")
    advice: str  # what to do when there are too many


# 200,000 clips (Speech Commands has 105,829) take about 25 MB and 250 MB of memory once read.
METADATA_LIMITS = CsvLimits(64 << 20, 200_000, "clips", "split the clips into several datasets")


@dataclass
class Clip:
    """One row of `metadata.csv`. `extra` keeps every other column untouched."""

    file_name: str
    label: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.file_name.rsplit("/", 1)[-1]

    @property
    def transcript(self) -> str:
        """What was said in the clip ("" when not transcribed yet)."""
        return self.extra.get(TRANSCRIPT, "")

    @property
    def transcript_by(self) -> str:
        """Who wrote the transcript: "user" for a correction, otherwise the recogniser's id ("" for none)."""
        return self.extra.get(TRANSCRIPT_BY, "")

    def row(self) -> dict[str, str]:
        return {"file_name": self.file_name, "label": self.label, **self.extra}


def clip_from_row(row: dict[str, str | None]) -> Clip:
    """A row as read (None for a missing value) as a Clip; extra columns keep their values."""
    extra = {k: (v if v is not None else "") for k, v in row.items() if k not in REQUIRED_COLUMNS and k is not None}
    return Clip(row.get("file_name") or "", row.get("label") or "", extra)


def stamp_of(info: os.stat_result) -> Stamp:
    """What tells that metadata.csv changed since it was read (an atomic replace changes the inode)."""
    return info.st_mtime_ns, info.st_size, info.st_ino


def check_metadata_kind(meta: Path) -> None:
    """metadata.csv is rewritten on every change, so it must be a regular file in the dataset folder."""
    if meta.is_symlink():
        raise DatasetError(f"{meta}: is a symbolic link; IntentDesk rewrites this file on every change, so it must "
                           "be a regular file: replace the link with a copy of the file it points to")
    if meta.is_dir():
        raise DatasetError(f"{meta}: is a folder, not a file; move it away (a dataset's {METADATA} is a CSV file)")


def load_clips(root: Path, clips_real: str) -> tuple[list[Clip], list[str], Stamp]:
    """The clips, columns and stamp of `root`'s metadata.csv; every row must be a clip under clips/
    (links resolved against `clips_real`) with a usable label, and no file listed twice."""
    meta = root / METADATA
    check_metadata_kind(meta)
    try:
        info = meta.stat()
    except FileNotFoundError as error:
        raise DatasetError(f"{root}: {METADATA} has disappeared; was the dataset moved or deleted?") from error
    columns, rows = read_metadata_table(meta)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise DatasetError(f"{meta}: missing column(s) {', '.join(missing)}; "
                           "the header must start with file_name,label")
    folders: dict[str, str] = {}
    clips: list[Clip] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        clip = clip_from_row(row)
        problem = file_name_problem(clip.file_name) or label_problem(clip.label)
        if problem is None:
            problem = path_problem(os.path.join(os.fspath(root), clip.file_name), clip.file_name, clips_real, folders)
        if problem is None and clip.file_name in seen:
            problem = f"lists {clip.file_name!r} again (first on line {seen[clip.file_name]})"
        if problem is not None:
            raise DatasetError(f"{meta}, line {line}: the row {problem}; fix or remove that row")
        seen[clip.file_name] = line
        clips.append(clip)
    return clips, columns, stamp_of(info)


def write_metadata(meta: Path, columns: list[str], clips: list[Clip]) -> tuple[list[str], Stamp]:
    """Replace metadata.csv atomically (columns in their order, extra ones appended; no cell a
    spreadsheet would run, see `core.csv_cells`); the columns written and the new stamp."""
    columns = list(columns) or list(REQUIRED_COLUMNS)
    for clip in clips:
        columns += [key for key in clip.extra if key not in columns]
    rows = [{key: value if key == "file_name" else safe_cell(value) for key, value in clip.row().items()}
            for clip in clips]
    check_rows_fit(meta, [list(row.values()) for row in rows], METADATA_LIMITS)
    with atomic_open(meta, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
        writer.writerow({name: safe_cell(name) for name in columns})  # a column's name is a cell too
        writer.writerows(rows)
        if handle.tell() > METADATA_LIMITS.max_bytes:  # refused before it replaces the file
            raise DatasetError(f"{meta}: would be {size_text(handle.tell())}, over the "
                               f"{size_text(METADATA_LIMITS.max_bytes)} it may be; nothing was changed "
                               f"({METADATA_LIMITS.advice})")
    return columns, stamp_of(meta.stat())


def check_rows_fit(path: Path, rows: list[list[str]], limits: CsvLimits) -> None:
    """Refuse to write a file that could not be read back: more rows, or a longer value, than reading allows."""
    if len(rows) > limits.max_rows:
        raise DatasetError(f"{path}: would list {len(rows):,} {limits.rows}, over the {limits.max_rows:,} it may "
                           f"list; nothing was changed ({limits.advice})")
    longest = csv.field_size_limit()
    if any(len(value) > longest for row in rows for value in row):
        raise DatasetError(f"{path}: a value would be longer than {longest:,} characters, the most a CSV value "
                           "may hold; nothing was changed")


def read_metadata_table(path: Path, limits: CsvLimits = METADATA_LIMITS,
                        ) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header and rows (with their line numbers) of a metadata.csv, read strictly and within `limits`.

    UTF-8 with or without a BOM (spreadsheets write one). A file that would lose content when
    rewritten is refused with the line it happens on: a row with more values than the header, two
    columns of the same name, or a nameless column holding values. Blank lines are skipped.
    """
    header, records = _csv_records(path, limits)
    keep = _checked_header(path, header, records)
    rows = []
    for number, record in records:
        overflow = record[len(header):]
        if any(v.strip() for v in overflow):
            raise DatasetError(f"{path}, line {number}: {len(record)} values but the header has {len(header)} "
                               "columns; quote values that contain commas, or add the missing column names")
        values = record[: len(header)]
        rows.append((number, {header[i]: _cell(header[i], values, i) for i in keep}))
    return [header[i] for i in keep], rows


def _cell(column: str, values: list[str], i: int) -> str | None:
    """A cell as the app wrote it (`plain_cell`); file names are never quoted (they start with clips/)."""
    if i >= len(values):
        return None
    return values[i] if column == "file_name" else plain_cell(values[i])


def _csv_records(path: Path, limits: CsvLimits) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank records (with the line each starts on) of a UTF-8 CSV file."""
    data = b""
    try:
        data = read_bounded(path, limits.max_bytes)
        text = data.decode("utf-8-sig")
    except TooLarge as error:
        raise DatasetError(f"{path}: {error} (at most {limits.max_rows:,} {limits.rows}); {limits.advice}") from error
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DatasetError(f"{path}: line {line} is not UTF-8 text; {_SAVE_AS_UTF8}") from error
    except IsADirectoryError as error:
        raise DatasetError(f"{path}: is a folder, not a CSV file") from error
    except OSError as error:
        raise DatasetError(os_message(error, "read it", path)) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise DatasetError(f"{path}: is empty; the first line must be the header file_name,label")
        header = [plain_cell(name) for name in header]  # names written as `safe_cell` cells
        records: list[tuple[int, list[str]]] = []
        line = reader.line_num
        for record in reader:
            if any(v.strip() for v in record):
                records.append((line + 1, record))
                if len(records) > limits.max_rows:
                    raise DatasetError(f"{path}: lists more than {limits.max_rows:,} {limits.rows} (line {line + 1}), "
                                       f"the most it may list; {limits.advice}")
            line = reader.line_num
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise DatasetError(f"{path}, line {reader.line_num}: a value is longer than {csv.field_size_limit():,} "
                               "characters, the most a CSV value may hold (an unclosed quote?); "
                               "shorten it or close the quote") from error
        raise DatasetError(f"{path}, line {reader.line_num}: not valid CSV ({error}); {_SAVE_AS_UTF8}") from error
    return header, records


def _checked_header(path: Path, header: list[str], records: list[tuple[int, list[str]]]) -> list[int]:
    """Indices of the columns to keep: named ones (no name twice), and nameless ones only if empty."""
    keep: list[int] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name.strip():
            used = next((n for n, r in records if index < len(r) and r[index].strip()), None)
            if used is not None:
                raise DatasetError(f"{path}: column {index + 1} has no name but holds values (line {used}); "
                                   "give it a name in the header")
            continue
        if name in seen:
            raise DatasetError(f"{path}: the header names column {name!r} twice (columns {seen[name] + 1} and "
                               f"{index + 1}); rename one so that neither is lost when the file is rewritten")
        seen[name] = index
        keep.append(index)
    return keep
