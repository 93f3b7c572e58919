"""An app that carries one model: its marker file (`carried_model.json`), what it says, and where it is found.

An app made for someone else (`export_app`) is IntentDesk's own folder with the model copied into
`model/` beside the executable and this marker next to them. Started with the marker there (or with
`--carried DIR` / INTENTDESK_CARRIED=DIR, for a source install and the tests), IntentDesk opens on
Classify only, with that model. The marker says what the person is given: the model's name, its
intents, its base model, and what it was trained on (the dataset's name, how many clips, when), read
from the model folder when the app is made, since a copy no longer lies in the dataset it came from.
The marker is untrusted input like any model file: read within bounds, each value checked, and the
model folder it names is a plain name inside the app's folder, never a path elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.json_files import JsonProblem, read_json
from intentdesk.core.models import model_files
from intentdesk.core.runs import read_record
from intentdesk.core.staging import MODELS
from intentdesk.paths import is_frozen

MARKER = "carried_model.json"
FORMAT = "intentdesk-carried-model"
VERSION = 1
MODEL_FOLDER = "model"
ENV = "INTENTDESK_CARRIED"
MARKER_BYTES = 1 << 20
TEXT_FIELDS = ("name", "base_model", "mode", "dataset", "trained", "recogniser", "text_encoder", "model_folder")
NOT_MADE_HERE = "it is not an app made with 'Make an app for others…' (intentdesk export-app), or it was changed"


@dataclass(frozen=True)
class CarriedModel:
    """What an app made for someone else carries. `folder` is where its marker lies (not in the file)."""

    name: str
    labels: list[str]
    base_model: str = ""
    mode: str = ""
    dataset: str = ""  # the dataset folder's name; "" when the model was not in a dataset's models/
    clips: int = 0  # clips it was trained and tested on; 0 when not recorded
    trained: str = ""  # YYYY-MM-DD
    recogniser: str = ""  # the words part's speech recogniser and text encoder (their names), "" without words
    text_encoder: str = ""
    model_folder: str = MODEL_FOLDER
    folder: Path | None = field(default=None, compare=False)

    @property
    def model_dir(self) -> Path:
        return (self.folder or Path(".")) / self.model_folder

    def line(self) -> str:
        """Model: NAME, trained on DATASET (N clips, DATE); intents: a, b, c."""
        clips = f"{self.clips:,} clips" if self.clips else ""
        what = self.dataset or clips  # the dataset's name, else its size, is what it was trained on
        details = ", ".join(part for part in (clips if self.dataset else "", self.trained) if part)
        trained = f", trained on {what}" if what else (f", trained {self.trained}" if self.trained else "")
        if what and details:
            trained += f" ({details})"
        return f"Model: {self.name}{trained}; intents: {', '.join(self.labels)}"

    def to_json(self) -> bytes:
        document = {"format": FORMAT, "version": VERSION,
                    **{key: value for key, value in asdict(self).items() if key != "folder"}}
        return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def facts_of(model_dir: Path) -> CarriedModel:
    """The marker for a trained model folder: its labels (config.json), what its metrics.json says it was
    trained from, and the dataset it lies in (DATASET/models/RUN)."""
    model_dir = Path(model_dir).resolve()
    config = model_files.read_json_object(model_dir / model_files.CONFIG, model_files.EDITED)
    labels = model_files.label_names(model_dir, config) or []
    record = read_record(model_dir)
    dataset = model_dir.parent.parent
    in_dataset = model_dir.parent.name == MODELS and (dataset / "metadata.csv").is_file()
    words = _words_sources(model_dir)
    base = record.base_model.strip("?")
    return CarriedModel(name=model_dir.name, labels=list(labels), base_model=Path(base).name if Path(base).is_absolute()
                        else base,  # a local base model by its name: the file tells no one where your folders are
                        mode=record.mode.strip("?"), dataset=dataset.name if in_dataset else "",
                        clips=record.train_clips + record.eval_clips,
                        trained=time.strftime("%Y-%m-%d", time.localtime(record.created)) if record.created else "",
                        recogniser=words.get("recogniser", ""), text_encoder=words.get("text_encoder", ""))


def _words_sources(model_dir: Path) -> dict[str, str]:
    """The names of the recogniser and encoder the words part names (their folder's last part)."""
    from intentdesk.core.words.layout import load_words

    if not (model_dir / "words").is_dir():
        return {}
    config = load_words(model_dir)[0]
    return {part: Path(str((config.get(part) or {}).get("source", ""))).name for part in ("recogniser", "text_encoder")}


def read_carried(folder: Path) -> CarriedModel:
    """The marker in `folder` (an app made for someone else), every value checked; `IntentDeskError`
    naming the file when it is missing or not sensible."""
    folder = Path(folder).expanduser()
    if folder.is_file() and folder.name == MARKER:
        folder = folder.parent
    path = folder / MARKER
    if not path.is_file():
        raise IntentDeskError(f"{folder}: has no {MARKER}, so {NOT_MADE_HERE}")
    try:
        document = read_json(path, MARKER_BYTES, finite=True)
    except JsonProblem as error:
        raise IntentDeskError(f"{path}: damaged ({error}); {NOT_MADE_HERE}") from error
    problem = _problem(document)
    if problem:
        raise IntentDeskError(f"{path}: {problem}; {NOT_MADE_HERE}")
    values = {key: document[key] for key in CarriedModel.__dataclass_fields__ if key in document and key != "folder"}
    carried = CarriedModel(**values, folder=folder.resolve())
    model_dir = carried.model_dir.resolve()
    if not model_dir.is_relative_to(folder.resolve()) or not (model_dir / model_files.CONFIG).is_file():
        raise IntentDeskError(f"{path}: the model folder {carried.model_folder!r} is not in {folder}; {NOT_MADE_HERE}")
    return carried


def _problem(document: object) -> str:
    """What is wrong with a marker's content, or ""."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return f"not an IntentDesk carried-model file ('format' is not {FORMAT!r})"
    if not isinstance(document.get("version"), int) or document["version"] > VERSION:
        return f"'version' is {document.get('version')!r}: made by a newer IntentDesk (this one reads {VERSION})"
    labels = document.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        return "'labels' is not a list of intent names"
    wrong = next((key for key in TEXT_FIELDS if not isinstance(document.get(key, ""), str)), None)
    if wrong or not isinstance(document.get("name"), str):
        return f"'{wrong or 'name'}' is not a text"
    clips = document.get("clips", 0)
    if not isinstance(clips, int) or isinstance(clips, bool) or clips < 0:
        return "'clips' is not a count"
    name = document.get("model_folder", MODEL_FOLDER)
    if Path(name).name != name or name in ("", ".", ".."):
        return f"'model_folder' is {name!r}, not a folder name"
    return ""


def find_carried(explicit: str | None = None) -> CarriedModel | None:
    """The model this app carries: `explicit` (--carried DIR), else INTENTDESK_CARRIED, else a marker
    beside the frozen executable; None for an ordinary IntentDesk."""
    chosen = explicit or os.environ.get(ENV)
    if chosen:
        return read_carried(Path(chosen))
    if is_frozen() and (Path(sys.executable).resolve().parent / MARKER).is_file():
        return read_carried(Path(sys.executable).resolve().parent)
    return None
