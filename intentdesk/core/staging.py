"""Where a trained model may be written, and writing it so that nobody ever sees half a model: the
checks made before training, staged saves swapped into place, and cleanup after killed saves.
A save (and a delete) only ever replaces a folder IntentDesk trained, and a save over an earlier
model replaces only the model's own files: what the person added there (notes, folders) stays."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from intentdesk.core.errors import TrainingError
from intentdesk.core.files import folder_mode
from intentdesk.core.json_files import read_json

MODELS = "models"
# The settings a model was trained with. Folders saved before 2026-11-25 have `training_settings.json`
# instead: that name made `datasets.load_dataset("audiofolder", data_dir=DATASET)` fail ("Instruction
# "train" corresponds to no data!") as soon as a run was saved inside the dataset's models/ folder,
# because the library's split patterns claim any file named "training*" for a "train" split. Both are read.
SETTINGS_FILE = "run_settings.json"
OLD_SETTINGS_FILE = "training_settings.json"
# A model is written into a hidden folder beside its final place, then renamed into place; the
# folder it replaces is renamed away first. Both carry this marker file, locked while in use, so
# a save killed half-way leaves something that is recognisably IntentDesk's and safe to remove.
STAGING_MARKER = ".intentdesk-staging"
MARKER_TEXT = "IntentDesk scratch folder: safe to delete when no save is running\n"
STAGING_NAME = re.compile(r"^\..+\.intentdesk-(?:staging|old)-[A-Za-z0-9_]+$")
TRAINED_FILES = ("config.json", "metrics.json")  # and a settings file (`settings_file`)
# What a model save writes, or an earlier version of it wrote (sharded or .bin weights, the old
# settings file, a words part): replaced by the next save into the folder. Anything else is the person's.
MODEL_FILE = re.compile(r"(?:config|generation_config|preprocessor_config|metrics|run_settings|training_settings"
                        r"|checksums)\.json"
                        r"|(?:model|pytorch_model)(?:-\d+-of-\d+)?\.(?:safetensors|bin)(?:\.index\.json)?"
                        r"|words")


def settings_file(model_dir: Path) -> Path | None:
    """The model folder's settings file (the current name first), or None when it has none."""
    for name in (SETTINGS_FILE, OLD_SETTINGS_FILE):
        if (Path(model_dir) / name).is_file():
            return Path(model_dir) / name
    return None


def is_trained_model(folder: Path) -> bool:
    """A folder IntentDesk wrote as a trained model (the only kind a save may replace)."""
    if not all((folder / name).is_file() for name in TRAINED_FILES) or settings_file(folder) is None:
        return False
    try:
        config = read_json(folder / "config.json")
    except (OSError, ValueError):  # JsonProblem is a ValueError: damaged, nested too deep, too large
        return False
    return isinstance(config, dict) and isinstance(config.get("intentdesk"), dict)


def check_output_dir(output_dir: Path, data_dir: Path | None = None, base_model: str | None = None) -> Path:
    """Where a trained model may go, checked before training (not after minutes of it): a new or
    empty folder, or a model IntentDesk trained; never the dataset or the base model, nor a folder
    inside or around them (the dataset's own models/ folder excepted); writable. Returns it resolved."""
    out = Path(output_dir).expanduser().resolve()
    if data_dir is not None:
        data = Path(data_dir).expanduser().resolve()
        if (data / MODELS) not in out.parents:  # a run in the dataset's models/ is fine: the app saves them there
            _refuse_overlap(out, data, "the dataset folder")
    if base_model and Path(base_model).expanduser().exists():
        _refuse_overlap(out, Path(base_model).expanduser().resolve(), "the base model folder")
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out}: is a file; choose a new folder for the model")
    if out.is_dir() and any(out.iterdir()) and not is_trained_model(out):
        raise TrainingError(f"{out}: exists and is not a model trained by IntentDesk (which is all a save "
                            "replaces); choose an empty or new folder")
    _check_writable(out.parent)
    return out


def _refuse_overlap(out: Path, other: Path, what: str) -> None:
    if out == other:
        raise TrainingError(f"{out}: is {what}; choose another folder for the model (saving there would replace it)")
    if other in out.parents:
        raise TrainingError(f"{out}: is inside {what} {other}; choose a folder outside it for the model")
    if out in other.parents:
        raise TrainingError(f"{out}: contains {what} {other}; choose a folder outside it for the model")


def _check_writable(folder: Path) -> None:
    """Create and remove a hidden folder in the nearest existing ancestor: the real test of writing."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise TrainingError(f"{existing}: is a file, so no model folder can be made under it; choose another place")
    try:
        Path(tempfile.mkdtemp(prefix=".intentdesk-write-check-", dir=existing)).rmdir()
    except OSError as error:
        raise TrainingError(f"{existing}: cannot write there ({error.strerror or error}); "
                            "choose a folder you can write to") from error


@contextlib.contextmanager
def staged_folder(output_dir: Path) -> Iterator[Path]:
    """Yield a fresh hidden folder beside `output_dir` to write a model into. When the block ends
    without error the folder replaces `output_dir` (which `check_output_dir` allowed), so nobody
    ever sees a half-written model; on error, or if killed, nothing of it is left in the way."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(output_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.intentdesk-staging-", dir=output_dir.parent))
    try:
        handle = _hold_marker(staging)
    except BaseException:  # a full disk: not even the marker fits
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        yield staging
    except BaseException:
        handle.close()
        _remove_marked(staging)
        raise
    _drop_marker(staging, handle)
    try:
        _install(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _install(staging: Path, output_dir: Path) -> None:
    """Rename `staging` to `output_dir` (with the folder's access rights); a model already there is
    renamed away, what the person added to it moves into the new one, and the rest is removed."""
    with contextlib.suppress(OSError):  # a file system without modes keeps its own
        os.chmod(staging, folder_mode(output_dir))  # mkdtemp made it private (0700)
    if output_dir.is_dir() and not any(output_dir.iterdir()):
        output_dir.rmdir()  # an empty folder made for the model
    if not output_dir.exists():
        staging.rename(output_dir)
        return
    old = _old_name(output_dir)
    output_dir.rename(old)
    try:
        staging.rename(output_dir)
    except BaseException:
        old.rename(output_dir)
        raise
    _carry_over(old, output_dir)
    (old / STAGING_MARKER).touch()  # marked only once replaced and emptied of the person's files (if killed
    _remove_marked(old)             # before, it stays); empty, so it is made even on a full disk


def _carry_over(old: Path, new: Path) -> None:
    """Move everything of the earlier model folder `old` that is not a model file (and not written
    anew) into `new`: renames within one folder, so no space is needed and nothing is copied. Until
    this is done `old` carries no marker, so no cleanup removes it with the person's files inside."""
    for entry in sorted(old.iterdir()):
        if MODEL_FILE.fullmatch(entry.name) or os.path.lexists(new / entry.name):
            continue
        try:
            entry.rename(new / entry.name)
        except OSError as error:
            raise TrainingError(f"{new}: the model was saved, but {entry.name} (yours, from the earlier model) could "
                                f"not be moved back into it ({error.strerror or error}); it is in {old}: move it "
                                "back yourself") from error


def remove_model_folder(folder: Path) -> None:
    """Delete a model IntentDesk trained, and nothing else. It is renamed away first (gone from any
    listing at once), then marked and removed marker-last: a delete killed half-way is finished by
    the next cleanup, never left looking like a model."""
    folder = Path(folder)
    if folder.is_symlink() or not is_trained_model(folder):
        raise TrainingError(f"{folder}: not a model trained by IntentDesk, so it is not deleted")
    old = _old_name(folder)
    folder.rename(old)
    try:
        (old / STAGING_MARKER).touch()  # empty: a delete must work on a full disk, where it is what frees space
    except BaseException:
        old.rename(folder)
        raise
    _remove_marked(old)


def _old_name(folder: Path) -> Path:
    """The hidden, marked-pattern name a model is renamed to before it is removed."""
    return folder.with_name(f".{folder.name}.intentdesk-old-{time.time_ns()}")


def _hold_marker(folder: Path) -> IO:
    """Write the marker and keep it locked while the save runs (the OS drops the lock if killed)."""
    handle = (folder / STAGING_MARKER).open("a+")
    handle.write(MARKER_TEXT)
    handle.flush()
    _try_lock(handle)
    return handle


def _drop_marker(folder: Path, handle: IO) -> None:
    """Remove the marker before the folder becomes the model; on POSIX while still locked, so no
    cleanup can take the folder for abandoned in between (Windows cannot delete an open file)."""
    marker = folder / STAGING_MARKER
    if os.name != "nt":
        marker.unlink()
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()


def _remove_marked(folder: Path) -> None:
    """Delete a marked folder with its marker last: if this is killed half-way, what is left is
    still marked, so a later cleanup finishes the job."""
    for child in folder.iterdir():
        if child.name == STAGING_MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()
    with contextlib.suppress(OSError):
        (folder / STAGING_MARKER).unlink()
        folder.rmdir()


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove what saves that were killed left behind: only folders with IntentDesk's name pattern
    AND its marker, and only when no running save holds the marker."""
    removed = []
    with contextlib.suppress(OSError):
        for folder in Path(parent).iterdir():
            if STAGING_NAME.match(folder.name) and folder.is_dir() and not folder.is_symlink() \
                    and _is_abandoned(folder / STAGING_MARKER):
                _remove_marked(folder)
                removed.append(folder)
    return removed


def _is_abandoned(marker: Path) -> bool:
    """The marker exists and no process holds its lock (checked on the very file still there)."""
    try:
        with marker.open("r+") as handle:
            if not _try_lock(handle):
                return False
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(marker))
            _unlock(handle)
            return same
    except OSError:
        return False


def _try_lock(handle: IO) -> bool:
    """An exclusive, non-blocking lock on an open file (released by the OS if the process dies)."""
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(handle: IO) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
