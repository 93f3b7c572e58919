"""Bring clips into a dataset: from label-named folders, another audiofolder, or the HF hub.

Every importer only builds a list of (file, label, extra columns) and hands it to
`DatasetStore.add_files`, which copies, checks, de-duplicates and writes once: so all importers
share the same all-or-nothing behaviour and the same per-file error reports.

An import only ever *reads* its source. A source that is the dataset itself, or that contains it
or lies inside it, is refused: it would import the dataset's own copies.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from intentdesk.core.audio.io import audio_files_under
from intentdesk.core.data.label_names import same_label, tidy_label
from intentdesk.core.data.safety import inside, real
from intentdesk.core.data.store import METADATA, DatasetStore, ImportReport, read_metadata_table, validate_label
from intentdesk.core.errors import DatasetError, DiskFull
from intentdesk.core.files import free_bytes, stop_when_disk_full
from intentdesk.core.models.hub import hub_error_message

LABEL_COLUMN_GUESSES = ("label", "intent_class", "intent", "labels", "class")


def check_source(source: str, data: Path | None = None) -> Path | None:
    """The local path an import reads (None for a hub dataset id), checked before anything is written.

    With `data` (the dataset folder, existing or not), a source that is that folder, contains it
    or lies inside it is refused.
    """
    path = Path(source).expanduser()
    if path.is_dir() or path.is_file():
        if data is not None:
            _refuse_overlap(path, Path(data).expanduser())
        return path
    if path.exists():
        raise DatasetError(f"{source}: not a folder or a regular file")
    if source.count("/") == 1 and not source.startswith((".", "/", "~")) and not os.path.isabs(source):
        return None
    raise DatasetError(f"{source}: no such folder or file (and not a hub dataset id like PolyAI/minds14)")


def _refuse_overlap(source: Path, data: Path) -> None:
    src, dst = os.path.realpath(source), os.path.realpath(data)
    if src == dst:
        raise DatasetError(f"{source}: is the dataset folder itself; import into a new folder instead, e.g. "
                           f"`intentdesk import {source} {source.name or 'recordings'}-dataset` (nothing was changed)")
    if dst.startswith(src.rstrip(os.sep) + os.sep):
        raise DatasetError(f"{data}: the dataset folder is inside the source {source}, so the import would read "
                           "its own copies; choose a dataset folder outside the source (nothing was changed)")
    if src.startswith(dst.rstrip(os.sep) + os.sep):
        raise DatasetError(f"{source}: is inside the dataset folder {data}; importing a dataset's own files "
                           "would add them twice. Move the source out of the dataset folder first (nothing was "
                           "changed)")


def import_into(store: DatasetStore, source: str, *, hub_config: str | None = None, split: str | None = None,
                label_column: str | None = None, label: str | None = None) -> ImportReport:
    """Import from a local folder (label folders or audiofolder) or, otherwise, a hub dataset id."""
    path = check_source(source, store.root)
    if path is None:
        return import_hub(store, source, config=hub_config, split=split, label_column=label_column)
    if path.is_dir():
        if (path / METADATA).is_file():
            return import_audiofolder(store, path)
        return import_label_folders(store, path, label=label)
    if label is None:
        raise DatasetError(f"{path}: a single file needs a label (--label)")
    return _checked(store.add_files([(path, same_label(label, store.labels()), {})]), path)


def import_label_folders(store: DatasetStore, folder: Path, *, label: str | None = None) -> ImportReport:
    """`folder/<label>/*.wav` (any depth below the label folder); a folder without label folders is
    itself named after its clips' label (`recordings/balance/*.wav` dropped or imported as `balance`);
    or, with `label`, all files under `folder` get that one.

    A name that differs from a label of the dataset only in spaces or capitals is that label.
    Hidden folders (`.trash`, `.git`...) are not labels: their audio is not imported, and said so;
    nor is audio lying beside label folders (which label would it be?), and said so.
    Files that are links to somewhere outside `folder` are skipped.
    """
    _refuse_overlap(folder, store.root)
    report = ImportReport()
    items: list[tuple[Path, str, dict[str, str]]] = []
    label = label if label is not None else own_label(folder)
    if label is not None:
        items = [(f, same_label(label, store.labels()), {}) for f in _audio_files(folder, folder, report)]
    else:
        existing = store.labels()
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if sub.name.startswith("."):
                hidden = _audio_files(sub, folder, ImportReport())
                if hidden:
                    report.skipped.append(f"{sub}: hidden folder, its {len(hidden)} audio file(s) were not "
                                          "imported (rename the folder to use it as a label)")
                continue
            settled = same_label(sub.name, existing)
            existing.append(settled)  # "Balance " and "balance" in one import are one label too
            items += [(f, settled, {}) for f in _audio_files(sub, folder, report)]
        beside = audio_files_under(folder, recursive=False)
        if beside:
            report.warnings.append(f"{folder}: {len(beside)} audio file(s) beside its label folders were not "
                                   f"imported, e.g. {beside[0].name} (move them into a label folder)")
    if not items:
        raise DatasetError(f"{folder}: no audio files found in label-named subfolders "
                           "(expected FOLDER/<label>/<clip>.wav, or clips in a folder named after their label)")
    return _checked(report.merge(store.add_files(items)), folder)


def own_label(folder: Path) -> str | None:
    """The label a folder of clips without label folders gives them: its own name, tidied (None when it
    has label folders, is a dataset, or its name cannot be a label)."""
    folder = Path(folder)
    if (folder / METADATA).is_file() or _has_label_folders(folder):
        return None
    try:
        return validate_label(tidy_label(folder.name))
    except DatasetError:
        return None


def needs_a_label(folder: Path) -> bool:
    """Whether the clips of `folder` have no label from it: not a dataset, no label folders, and a name
    that cannot be a label (then the importer must be given one)."""
    folder = Path(folder)
    return not (folder / METADATA).is_file() and not _has_label_folders(folder) and own_label(folder) is None


def _has_label_folders(folder: Path) -> bool:
    return any(sub.is_dir() and not sub.name.startswith(".") for sub in folder.iterdir())


def _audio_files(top: Path, source: Path, report: ImportReport) -> list[Path]:
    """Audio files under `top` (not in hidden folders, links not followed out of `source`), sorted."""
    base = real(source)
    found = []
    for path in audio_files_under(top):
        if inside(path, base):
            found.append(path)
        else:
            report.skipped.append(f"{path}: a link to {os.path.realpath(path)}, outside {source}; not imported")
    return found


def import_audiofolder(store: DatasetStore, folder: Path) -> ImportReport:
    """Another dataset in the same format: extra columns come along (file_name is rewritten).

    Its metadata.csv is read as strictly as a dataset's own (UTF-8, no values beyond the header);
    a row whose file_name leads outside `folder` is skipped, never read.
    """
    _refuse_overlap(folder, store.root)
    meta = folder / METADATA
    columns, rows = read_metadata_table(meta)
    if "file_name" not in columns:
        raise DatasetError(f"{meta}: needs a file_name column")
    label_key = next((c for c in LABEL_COLUMN_GUESSES if c in columns), None)
    base = real(folder)
    report = ImportReport()
    items = []
    for line, row in rows:
        name = row.get("file_name") or ""
        file_path = folder / name
        if not name or os.path.isabs(name) or not inside(file_path, base):
            report.skipped.append(f"{meta}, line {line}: file_name {name!r} is outside {folder}; not imported")
            continue
        row_label = row.get(label_key) if label_key else Path(name).parent.name
        extra = {k: v or "" for k, v in row.items() if k not in ("file_name", label_key)}
        items.append((file_path, row_label or "", extra))
    if not items:
        detail = f" ({report.skipped[0]})" if report.skipped else ""
        raise DatasetError(f"{meta}: lists no clips that can be imported{detail}")
    report = _checked(report.merge(store.add_files(items)), folder)
    import_phrases(store, folder, report)
    return report


def import_phrases(store: DatasetStore, folder: Path, report: ImportReport) -> int:
    """The typed phrases of another dataset (its phrases.csv) come along; a row whose label cannot be a
    folder name is skipped and reported, the others come (one bad row dropped them all). Returns how many
    were added."""
    from intentdesk.core.data.phrases import read_phrases

    skipped: list[str] = []
    try:
        pairs = read_phrases(folder, skipped)
    except DatasetError as error:
        report.warnings.append(f"typed phrases not imported: {error}")
        return 0
    report.warnings += [f"a typed phrase not imported: {problem}" for problem in skipped]
    by_label: dict[str, list[str]] = {}
    for label, text in pairs:
        by_label.setdefault(label, []).append(text)
    added = 0
    for label, texts in by_label.items():
        try:
            added += store.texts.add_phrases(label, texts)
        except DatasetError as error:
            report.warnings.append(f"typed phrases for {label!r} not imported: {error}")
        except DiskFull as error:  # after the clips went in: say so, rather than "nothing was changed"
            raise DiskFull(error.folder, free_bytes(error.folder),
                           f"the {len(report.added)} clip(s) were imported, the typed phrases of {folder} were "
                           "not: run the same import again then (clips already there are not added twice)") \
                from error
    return added


NO_DATASETS = ("importing a dataset from the Hugging Face hub needs the 'datasets' package, which the packaged "
               "app leaves out (a fifth more to download): import a folder of clips instead, or import the hub "
               "dataset with the command-line intentdesk (pip install intentdesk) and open that dataset folder here")


def hub_datasets():
    """The `datasets` package, or a `DatasetError` saying what to do where it is not there (the packaged
    app: build.spec leaves it, pyarrow and pandas out, 193 MB that only a hub import would use)."""
    try:
        import datasets
    except ImportError as error:
        raise DatasetError(NO_DATASETS) from error
    return datasets


def import_hub(store: DatasetStore, name: str, *, config: str | None = None, split: str | None = None,
               label_column: str | None = None,
               loader: Callable[..., object] | None = None) -> ImportReport:
    """A dataset from the Hugging Face hub (e.g. PolyAI/minds14, config en-US).

    Audio is not decoded by `datasets` (its decoder needs torchcodec): we take the raw bytes or
    paths, write them out, and let `add_files` decode and check them like any local file.
    ClassLabel columns are mapped to their names so labels are words, not numbers.
    """
    datasets = hub_datasets()
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
    with stop_when_disk_full(tempfile.gettempdir(), "nothing was imported"), tempfile.TemporaryDirectory() as tmp:
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
    """An import that added nothing is an error, unless everything was already there (a re-run)."""
    if not report.added and not report.duplicates:
        detail = f": {report.skipped[0]}" if report.skipped else ""
        raise DatasetError(f"{source}: nothing could be imported{detail}")
    return report
