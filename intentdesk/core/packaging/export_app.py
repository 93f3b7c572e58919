"""`export_app`: one file that opens on Classify with one trained model, for someone who will never train.

The file is a compressed archive (`archive.pack`) with one top folder, `IntentDesk-<model>/`:

    IntentDesk, _internal/ …       a copy of a packaged IntentDesk (PyInstaller's one-folder app)
    <model>/                        the model's files and its words part, with the speech recogniser
                                    and text encoder it needs (hub ones too: the other computer may be offline)
    carried_model.json              the marker: IntentDesk opens on Classify only, with model/ (`carried`)
    IntentDesk-<model>.desktop      a desktop entry that starts the executable beside it
    README.txt                      what this is and how to open it

The packaged IntentDesk is the one running (a frozen app has no PyInstaller, and the person it is made
for has no Python), or a folder given as `app_folder`, or, from a source checkout, `dist/IntentDesk`
made by `make dist` (built with scripts/build.sh first when it is missing: that takes many minutes).
The models the packaged app bundles for training (`models/`) stay out: the carried model needs none.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from intentdesk.core.errors import IntentDeskError, ModelUnavailable, problem_of
from intentdesk.core.events import EventCallback, Stage, StageEvent, ignore
from intentdesk.core.models.model_files import check_classifier_folder
from intentdesk.core.packaging import archive, carried
from intentdesk.paths import is_frozen

APP_NAME = "IntentDesk"
EXECUTABLES = (APP_NAME, f"{APP_NAME}.exe")
BUILD_SCRIPT = Path("scripts") / "build.sh"
DIST = Path("dist") / APP_NAME
# Left out of the app folder copied: the models a packaged app bundles for training ("models",
# core/models/bundled.py), which the carried model needs none of, and (`left_out`) an earlier carried model.
LEFT_OUT = (carried.MARKER, "models", "README.txt")


def app_executable(folder: Path) -> Path | None:
    """The executable of a packaged IntentDesk folder, or None when `folder` is not one."""
    return next((Path(folder) / name for name in EXECUTABLES if (Path(folder) / name).is_file()), None)


def source_root() -> Path:
    """The checkout this IntentDesk runs from (where build.spec and dist/ are, when it is one)."""
    return Path(__file__).resolve().parents[3]


def find_app_folder(given: Path | None = None, on_event: EventCallback = ignore,
                    cancel: threading.Event | None = None, build: bool = True) -> Path:
    """The packaged IntentDesk to copy: `given`, the running frozen app, or the checkout's dist/IntentDesk
    (built first when missing and `build`); `IntentDeskError` saying what to do when there is none."""
    if given is not None:
        if app_executable(Path(given)) is None:
            raise IntentDeskError(f"{given}: not a packaged IntentDesk folder (no {APP_NAME} executable in it); "
                                  "give the folder that `make dist` made (dist/IntentDesk)")
        return Path(given).resolve()
    if is_frozen():
        return Path(sys.executable).resolve().parent
    root = source_root()
    if app_executable(root / DIST) is None and build and (root / BUILD_SCRIPT).is_file():
        build_app(root, on_event, cancel or threading.Event())
    if app_executable(root / DIST) is None:
        raise IntentDeskError("no packaged IntentDesk to copy: this IntentDesk runs from Python, and the person you "
                              "make the app for has none. Make it from the packaged IntentDesk, or build that "
                              "first (`make dist` in a source checkout, with PyInstaller) and try again")
    on_event(StageEvent(f"Using the packaged app in {root / DIST}", kind=Stage.CHECKING))
    return (root / DIST).resolve()


def build_app(root: Path, on_event: EventCallback, cancel: threading.Event) -> None:
    """Run scripts/build.sh (PyInstaller): its output lines become progress; cancel stops it."""
    on_event(StageEvent("Building the packaged app with PyInstaller first (dist/IntentDesk is missing): "
                        "this takes many minutes…", kind=Stage.CHECKING))
    process = subprocess.Popen([str(root / BUILD_SCRIPT)], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    threading.Thread(target=_stop_when_cancelled, args=(process, cancel), daemon=True).start()
    for line in process.stdout:
        if line.strip():
            on_event(StageEvent(f"Building: {line.strip()[:160]}", kind=Stage.CHECKING))
    process.wait()
    if cancel.is_set():
        raise archive.PackCancelled("cancelled while building the packaged app: nothing was written")
    if process.returncode != 0:
        raise IntentDeskError(f"building the packaged app failed ({root / BUILD_SCRIPT} exited with "
                              f"{process.returncode}); run `make dist` to see why")


def _stop_when_cancelled(process: subprocess.Popen, cancel: threading.Event) -> None:
    while process.poll() is None:
        if cancel.wait(0.5):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            return


def safe_name(model_name: str) -> str:
    """The model's name in characters every file system takes."""
    return re.sub(r"[^\w.\-]+", "-", model_name).strip("-.") or carried.MODEL_FOLDER


def top_folder_name(model_name: str) -> str:
    """IntentDesk-<model>: the folder the archive unpacks to."""
    return f"{APP_NAME}-{safe_name(model_name)}"


def model_folder_name(model_name: str, app: Path) -> str:
    """The carried model's folder beside the executable: the model's name (the Model panel shows it), unless
    the app has an entry of that name."""
    name = safe_name(model_name)
    return f"{carried.MODEL_FOLDER}-{name}" if (app / name).exists() or name in LEFT_OUT else name


def left_out(app: Path) -> tuple[str, ...]:
    """What stays out of the app folder's copy: LEFT_OUT, and the model of an app made for others it may be."""
    try:
        earlier = (carried.read_carried(app).model_folder,) if (app / carried.MARKER).is_file() else ()
    except IntentDeskError:
        earlier = ()
    return LEFT_OUT + earlier + tuple(entry.name for entry in app.glob("*.desktop"))


def check_output(out: Path, model_dir: Path) -> Path:
    """The archive to write, refused when something is there already or it would land in the model."""
    out = archive.archive_path(out)
    if out.exists() or out.is_symlink():
        raise IntentDeskError(f"{out}: already exists; choose a new file name (nothing was changed)")
    if out.resolve().is_relative_to(model_dir.resolve()):
        raise IntentDeskError(f"{out}: is inside the model folder {model_dir}; choose a place outside it")
    if out.parent.exists() and not out.parent.is_dir():
        raise IntentDeskError(f"{out.parent}: is a file, not a folder; choose another place for the app")
    return out


def export_app(model_dir: Path | str, out: Path | str, app_folder: Path | None = None,
               on_event: EventCallback = ignore, cancel: threading.Event | None = None, build: bool = True) -> Path:
    """Write the one-file app for `model_dir` to `out` (its suffix added when it has none: `archive_path`);
    returns the file written. Nothing is left behind when it fails or is cancelled."""
    cancel = cancel or threading.Event()
    on_event(StageEvent("Checking the model…", 0.0, Stage.CHECKING))
    model_dir = check_classifier_folder(Path(model_dir))
    out = check_output(Path(out), model_dir)
    facts = carried.facts_of(model_dir)
    app = find_app_folder(app_folder, on_event, cancel, build)
    if out.resolve().is_relative_to(app):
        raise IntentDeskError(f"{out}: is inside the app folder {app}; choose a place outside it")
    top = top_folder_name(facts.name)
    skip = left_out(app)
    facts = replace(facts, model_folder=model_folder_name(facts.name, app))
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".intentdesk-app-", dir=out.parent))
    try:
        on_event(StageEvent("Copying the model and what its words part needs…", 0.0, Stage.SAVING))
        _copy_model(model_dir, scratch / carried.MODEL_FOLDER)
        entries = [archive.Entry(top, app, skip=skip),
                   archive.Entry(f"{top}/{facts.model_folder}", scratch / carried.MODEL_FOLDER),
                   archive.Entry(f"{top}/{carried.MARKER}", data=facts.to_json()),
                   archive.Entry(f"{top}/{top}.desktop", data=desktop_entry(facts).encode(), executable=True),
                   archive.Entry(f"{top}/README.txt", data=readme(facts, top).encode())]
        return archive.pack(out, entries, on_event, cancel)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_model(model_dir: Path, target: Path) -> None:
    """The model folder's model files, with its recogniser and encoder (hub ones from the Hugging Face cache)."""
    from intentdesk.core.words.layout import copy_model_folder

    try:
        copy_model_folder(model_dir, target, hub_parts=True)
    except ModelUnavailable as error:
        raise IntentDeskError(f"{problem_of(error)}: the app carries every "
                              "model the words part needs, so it must be on this computer first (download it "
                              "once while online: File > Models…)") from error


def desktop_entry(facts: carried.CarriedModel) -> str:
    """A desktop entry that starts the executable in its own folder (`%k` is the entry's own path)."""
    return ("[Desktop Entry]\nType=Application\n"
            f"Name=IntentDesk: {_one_line(facts.name)}\n"
            f"Comment=Classify speech into {_one_line(', '.join(facts.labels))[:200]}\n"
            'Exec=sh -c "\\\\"\\\\$(dirname \\\\"\\\\$0\\\\")/IntentDesk\\\\"" %k\n'
            "Terminal=false\nCategories=AudioVideo;Audio;\n")


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)


def readme(facts: carried.CarriedModel, top: str) -> str:
    return (f"IntentDesk with one model, ready to classify speech ({time.strftime('%Y-%m-%d')}).\n\n"
            f"{facts.line()}\n\n"
            f"Open it: double-click IntentDesk in this folder (or {top}.desktop; your file manager may ask\n"
            "you to trust it first). Drop or record audio and read the ranked intents; the results can be\n"
            "saved as CSV. It needs no internet and no Python, and it does not train.\n")
