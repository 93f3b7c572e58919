"""The three models the app uses (base model, speech recogniser, text encoder): their defaults, whether
the one chosen is there (a local folder of the right kind, or a hub id in the Hugging Face cache), and
downloading one from the hub with progress and cancel.

Every place that needs a model asks `missing_reason` first, so a person offline is told which model is
missing and where to get it, instead of waiting through the hub's retries for a cut-off message.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from intentdesk.core.errors import IntentDeskError, ModelError, ModelUnavailable, first_line
from intentdesk.core.models import bundled, hub, model_files, references
from intentdesk.core.models.hub import is_downloaded

NAME_HINT = "check the name, or choose a local folder"
RECOGNISER_ARCHITECTURES = ("ForConditionalGeneration", "ForCTC", "ForSpeechSeq2Seq")


@dataclass(frozen=True)
class Role:
    """One model the app needs: `key` is its `TrainSettings` field, `kind` what a local folder of it
    holds (see `references.KIND_FILES`), `default_mb` the default's weights (parameters x 4 bytes)."""

    key: str
    title: str
    purpose: str
    default: str
    kind: str
    default_mb: int

    @property
    def noun(self) -> str:
        return self.title.lower()


BASE_MODEL = Role("base_model", "Base model", "listens to the sound: every model you train is built on it",
                  hub.DEFAULT_BASE_MODEL, "base", 380)  # wav2vec2-base: 95 M parameters
RECOGNISER = Role("asr", "Speech recogniser", "writes down what is said (Transcribe, and learning from the words)",
                  hub.DEFAULT_RECOGNISER, "recogniser", 151)  # whisper-tiny.en: 38 M parameters
TEXT_ENCODER = Role("text_encoder", "Text encoder", "compares what sentences mean (learning from the words)",
                    hub.DEFAULT_TEXT_ENCODER, "text_encoder", 91)  # all-MiniLM-L6-v2: 23 M parameters
ROLES = (BASE_MODEL, RECOGNISER, TEXT_ENCODER)
ROLE_BY_KEY = {role.key: role for role in ROLES}


class State(Enum):
    LOCAL = "local folder"
    LOCAL_BAD = "local folder not usable"
    DOWNLOADED = "downloaded"
    BUNDLED = "bundled with the app"
    NOT_DOWNLOADED = "not downloaded"


@dataclass(frozen=True)
class Status:
    """Where a chosen model stands, with `text`: the same in plain words (and, for a folder that
    cannot be used, `problem`: why)."""

    state: State
    text: str
    problem: str = ""

    @property
    def ready(self) -> bool:
        return self.state in (State.LOCAL, State.DOWNLOADED, State.BUNDLED)


def local_folder(source: str) -> Path | None:
    """The folder `source` names, or None when it is a hub id (as loading decides: an existing path, or
    anything that cannot be a hub id, is a folder)."""
    path = Path(source).expanduser()
    if path.is_absolute() or path.exists() or not references.is_hub_id(source):
        return path
    return None


def status_of(role: Role, source: str) -> Status:
    """Whether `source` (a hub id or a folder) can be used as `role` without the internet. Reads files
    only: fast enough for the GUI thread."""
    folder = local_folder(source)
    if folder is not None:
        try:
            check_folder(role, folder)
        except ModelError as error:
            problem = first_line(error)
            return Status(State.LOCAL_BAD, f"Not usable: {problem}", problem)
        return Status(State.LOCAL, "Ready: a folder on this computer")
    if is_downloaded(source):
        return Status(State.DOWNLOADED, "Downloaded (kept in the Hugging Face cache on this computer)")
    if bundled.bundled_folder(source) is not None:
        return Status(State.BUNDLED, "Ready: bundled with the app (works offline)")
    size = f" (about {role.default_mb} MB)" if source == role.default else ""
    if hub.hub_is_offline():
        return Status(State.NOT_DOWNLOADED, f"Not downloaded{size}, and this computer is set to work offline "
                                            "(HF_HUB_OFFLINE): choose a local folder")
    return Status(State.NOT_DOWNLOADED, f"Not downloaded: needs the internet once{size}")


def check_folder(role: Role, folder: Path) -> None:
    """`ModelError` when `folder` is missing or not a model of `role`'s kind (what loading would trip on)."""
    if not folder.exists():
        raise ModelError(f"{folder}: folder not found; choose the {role.noun}'s folder again")
    if role.kind == "text_encoder":
        _check_text_encoder(folder)
        return
    config = model_files.check_model_files(folder)
    architectures = config.get("architectures")
    names = [name for name in architectures if isinstance(name, str)] if isinstance(architectures, list) else []
    if role.kind == "recogniser" and names and not any(name.endswith(RECOGNISER_ARCHITECTURES) for name in names):
        raise ModelError(f"{folder}: is a {names[0]}, not a speech recogniser (it cannot write down what is "
                         "said); choose a speech recognition model's folder")


def _check_text_encoder(folder: Path) -> None:
    """A text model: config.json, a tokenizer, weights, and no audio feature extractor."""
    tokenizer = any((folder / name).is_file() for name in references.KIND_FILES["text_encoder"])
    if not (folder / model_files.CONFIG).is_file() or not tokenizer or (folder / references.NOT_TEXT).is_file():
        raise ModelError(f"{folder}: not a text encoder folder (it needs config.json and a tokenizer, and has no "
                         f"audio {references.NOT_TEXT}); choose a sentence encoder's folder")
    if not any((folder / name).is_file() for name in model_files.WEIGHTS + model_files.WEIGHT_INDEXES):
        raise ModelError(f"{folder}: has config.json but no weights (model.safetensors); {model_files.INCOMPLETE}")


def missing_reason(role: Role, source: str, reachable: Callable[[], bool] = hub.hub_reachable) -> str | None:
    """Why `source` cannot be used as `role` now (one line), or None when it can: a good folder, a
    downloaded model, or the hub in reach to download it. May ask the network (1.5 s at most): call
    it off the GUI thread."""
    status = status_of(role, source)
    if status.ready:
        return None
    if status.state is State.LOCAL_BAD:
        return f"the {role.noun} folder cannot be used: {status.problem}"
    if reachable():
        return None
    return f"the {role.noun} {source} is not downloaded and {hub.OFFLINE_HINT}"


# ------------------------------------------------------------------ downloading
@dataclass(frozen=True)
class DownloadProgress:
    """Bytes of the whole download so far (`total` None while a size is unknown), and the file at work."""

    file: str
    done: int
    total: int | None
    files_done: int
    files_total: int


class DownloadCancelled(IntentDeskError):
    """Raised inside the hub's download loop (from its progress bar) to stop it at once."""


def download(repo_id: str, progress: Callable[[DownloadProgress], None] | None = None,
             cancel: threading.Event | None = None) -> str | None:
    """Download what loading `repo_id` reads into the Hugging Face cache, file by file, reporting bytes;
    returns its snapshot folder, or None when `cancel` was set. A cancelled or failed download leaves
    no half file in the cache and no `refs/main` (the cache says "not downloaded"); files finished
    before stay, and a later download reuses them. Offline: `ModelUnavailable` with `OFFLINE_HINT`."""
    what = f"the model {repo_id}"
    try:
        return _download(repo_id, progress, cancel or threading.Event())
    except DownloadCancelled:
        return None
    except IntentDeskError:
        raise
    except Exception as error:  # noqa: BLE001 - the hub's errors are many: sorted here into what to do
        from huggingface_hub.errors import RepositoryNotFoundError

        if isinstance(error, RepositoryNotFoundError):
            raise ModelUnavailable(f"the Hugging Face hub has no public model {repo_id}", NAME_HINT) from error
        if hub.looks_like_network_problem(error):
            raise ModelUnavailable(f"cannot download {what}", hub.OFFLINE_HINT) from error
        raise ModelUnavailable(f"cannot download {what}: {first_line(error)}", NAME_HINT) from error


def _download(repo_id: str, progress, cancel: threading.Event) -> str:
    from huggingface_hub import HfApi, hf_hub_download

    info = HfApi().model_info(repo_id, files_metadata=True)
    files = files_to_download([(sibling.rfilename, sibling.size) for sibling in info.siblings or []])
    if not any(name == model_files.CONFIG for name, _size in files):
        raise ModelError(f"{repo_id}: the hub lists no config.json for it: not a Hugging Face model; {NAME_HINT}")
    counter = _ByteCounter(repo_id, files, progress, cancel)
    blobs = _cache_folder(repo_id) / "blobs"
    before = _cut_off_files(blobs)
    try:
        for name, _size in files:
            counter.begin(name)
            path = hf_hub_download(repo_id, name, revision=info.sha, tqdm_class=counter.bar_class())
            counter.end(name)
    except BaseException:
        for leftover in _cut_off_files(blobs) - before:  # huggingface_hub before 2.x keeps them, to resume
            leftover.unlink(missing_ok=True)
        raise
    snapshot = Path(path).parents[len(Path(name).parts) - 1]
    _point_main_at(snapshot)
    return str(snapshot)


def files_to_download(listing: list[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
    """The files loading reads (`references.HUB_FILES`; the older .bin weights only when there are
    no safetensors), smallest first so the configs are in before the long weights."""
    def matching(patterns) -> list[tuple[str, int | None]]:
        return [(name, size) for name, size in listing if any(fnmatch.fnmatch(name, p) for p in patterns)]

    files = matching(references.HUB_FILES)
    if not any(name.endswith(".safetensors") for name, _size in files):
        files = matching([*references.HUB_FILES, "pytorch_model*.bin"])
    return sorted(files, key=lambda item: (item[1] or 0, item[0]))


def _cache_folder(repo_id: str) -> Path:
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    return Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo_id, repo_type="model")


def _cut_off_files(blobs: Path) -> set[Path]:
    return set(blobs.glob("*.incomplete")) if blobs.is_dir() else set()


def _point_main_at(snapshot: Path) -> None:
    """Write `refs/main` (the cache's "this revision is the current one") once every file is in: the
    files were fetched by commit, which the hub does not record as main."""
    refs = snapshot.parent.parent / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / "main").write_text(snapshot.name, encoding="utf-8")


class _ByteCounter:
    """Adds up the bytes the hub's per-file progress bars report into one `DownloadProgress`, and
    stops the download from inside them when `cancel` is set."""

    def __init__(self, repo_id: str, files: list[tuple[str, int | None]], report, cancel: threading.Event) -> None:
        self.repo_id, self.report, self.cancel = repo_id, report, cancel
        self.sizes = dict(files)
        self.total = sum(self.sizes.values()) if all(self.sizes.values()) else None
        self.finished_bytes, self.files_done = 0, 0
        self.file, self.file_done = "", 0

    def begin(self, name: str) -> None:
        self.file, self.file_done = name, 0
        self.add(0)

    def add(self, count: int) -> None:
        if self.cancel.is_set():
            raise DownloadCancelled(f"the download of {self.repo_id} was cancelled")
        self.file_done += count
        self._send()

    def end(self, name: str) -> None:
        self.finished_bytes += self.sizes.get(name) or self.file_done
        self.files_done += 1
        self.file_done = 0
        self._send()

    def _send(self) -> None:
        if self.report is not None:
            self.report(DownloadProgress(self.file, self.finished_bytes + self.file_done, self.total,
                                         self.files_done, len(self.sizes)))

    def bar_class(self) -> type:
        """The tqdm class the hub makes a bar of for each file (plain or Xet download): what it
        counts comes here, nothing goes to the console."""
        from huggingface_hub.utils import tqdm

        counter = self

        class Bar(tqdm):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **{**kwargs, "disable": True})
                counter.add(int(kwargs.get("initial") or 0))  # a resumed file's bytes already there

            def update(self, n: float | None = 1) -> bool | None:
                counter.add(int(n or 0))
                return super().update(n)

            def update_transfer(self, n: int) -> None:
                """Xet's network bytes (besides the bytes written, which `update` counts): not counted."""

            def set_transfer_postfix_str(self, *args, **kwargs) -> None:
                """Xet's network speed: not shown."""

        return Bar
