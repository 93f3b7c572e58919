"""Bring clips into a dataset: from label-named folders, another audiofolder, or the HF hub.

Every importer only builds a list of (file, label, extra columns) and hands it to
`DatasetStore.add_files`, which validates, stages and writes once: so all importers share
the same all-or-nothing behaviour and the same per-file error reports.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

from intentdesk.core import audio
from intentdesk.core.dataset import METADATA, DatasetStore, ImportReport
from intentdesk.core.errors import DatasetError
from intentdesk.core.hub import hub_error_message

LABEL_COLUMN_GUESSES = ("label", "intent_class", "intent", "labels", "class")


def import_into(store: DatasetStore, source: str, *, hub_config: str | None = None, split: str | None = None,
                label_column: str | None = None, label: str | None = None) -> ImportReport:
    """Import from a local folder (label folders or audiofolder) or, otherwise, a hub dataset id."""
    path = Path(source).expanduser()
    if path.is_dir():
        if (path / METADATA).is_file():
            return import_audiofolder(store, path)
        return import_label_folders(store, path, label=label)
    if path.is_file():
        if label is None:
            raise DatasetError(f"{path}: a single file needs a label (--label)")
        return store.add_files([(path, label, {})])
    if source.count("/") == 1 and not source.startswith((".", "/", "~")):
        return import_hub(store, source, config=hub_config, split=split, label_column=label_column)
    raise DatasetError(f"{source}: no such folder or file (and not a hub dataset id like PolyAI/minds14)")


def import_label_folders(store: DatasetStore, folder: Path, *, label: str | None = None) -> ImportReport:
    """`folder/<label>/*.wav` (any depth below the label folder); or all files under one `label`."""
    items = []
    if label is not None:
        items = [(f, label, {}) for f in sorted(folder.rglob("*")) if f.is_file() and audio.is_audio_file(f)]
    else:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            items += [(f, sub.name, {}) for f in sorted(sub.rglob("*")) if f.is_file() and audio.is_audio_file(f)]
    if not items:
        raise DatasetError(f"{folder}: no audio files found in label-named subfolders "
                           "(expected FOLDER/<label>/<clip>.wav)")
    return _checked(store.add_files(items), folder)


def import_audiofolder(store: DatasetStore, folder: Path) -> ImportReport:
    """Another dataset in the same format: extra columns come along (file_name is rewritten)."""
    with open(folder / METADATA, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "file_name" not in reader.fieldnames:
            raise DatasetError(f"{folder / METADATA}: needs a file_name column")
        label_key = next((c for c in LABEL_COLUMN_GUESSES if c in reader.fieldnames), None)
        rows = list(reader)
    items = []
    for row in rows:
        file_path = folder / row["file_name"]
        row_label = row.get(label_key) if label_key else Path(row["file_name"]).parent.name
        extra = {k: v for k, v in row.items() if k not in ("file_name", label_key) and k is not None}
        items.append((file_path, row_label or "", extra))
    if not items:
        raise DatasetError(f"{folder / METADATA}: lists no clips")
    return _checked(store.add_files(items), folder)


def import_hub(store: DatasetStore, name: str, *, config: str | None = None, split: str | None = None,
               label_column: str | None = None,
               loader: Callable[..., object] | None = None) -> ImportReport:
    """A dataset from the Hugging Face hub (e.g. PolyAI/minds14, config en-US).

    Audio is not decoded by `datasets` (its decoder needs torchcodec): we take the raw bytes or
    paths, write them out, and let `add_files` decode and check them like any local file.
    ClassLabel columns are mapped to their names so labels are words, not numbers.
    """
    import datasets

    datasets.disable_progress_bars()
    load = loader or datasets.load_dataset
    try:
        data = load(name, config, split=split or "train")
    except Exception as error:
        raise DatasetError(hub_error_message(f"dataset {name!r}", error)) from error
    audio_column = next((c for c, f in data.features.items() if isinstance(f, datasets.Audio)), None)
    if audio_column is None:
        raise DatasetError(f"{name}: has no audio column")
    column = label_column or next((c for c in LABEL_COLUMN_GUESSES if c in data.features), None)
    if column is None or column not in data.features:
        raise DatasetError(f"{name}: no label column found; name one with --label-column "
                           f"(columns: {', '.join(data.features)})")
    data = data.cast_column(audio_column, datasets.Audio(decode=False))
    feature = data.features[column]
    names = feature.names if isinstance(feature, datasets.ClassLabel) else None
    keep = [c for c, f in data.features.items()
            if c not in (audio_column, column) and isinstance(f, datasets.Value)]
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for index, row in enumerate(data):
            entry = row[audio_column]
            stem = Path(entry.get("path") or f"clip{index:05d}.wav").name
            target = Path(tmp) / f"{index:05d}-{stem}"
            if entry.get("bytes"):
                target.write_bytes(entry["bytes"])
            elif entry.get("path") and Path(entry["path"]).is_file():
                target = Path(entry["path"])
            else:
                continue
            value = row[column]
            row_label = names[value] if names is not None else str(value)
            items.append((target, row_label, {c: str(row[c]) for c in keep}))
        if not items:
            raise DatasetError(f"{name}: no audio could be read from the dataset")
        return _checked(store.add_files(items), name)


def _checked(report: ImportReport, source: object) -> ImportReport:
    if not report.added:
        detail = f": {report.skipped[0]}" if report.skipped else ""
        raise DatasetError(f"{source}: nothing could be imported{detail}")
    return report
