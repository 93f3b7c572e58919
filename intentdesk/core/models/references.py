"""Where a model folder may point, and what a copy of one takes.

A model folder is untrusted input: people download one and pass it on. Its words part names a
speech recogniser and a text encoder (`MODEL/words/words_config.json`), and an export copies the
folders it names. So, for every name a model file gives:

- a relative name resolves only inside the folder that holds the file (a bundled copy), never
  against the working folder: a `./whisper` planted there is never loaded;
- a hub id is used only as a hub id: it is looked up in the Hugging Face cache (or downloaded),
  and the absolute folder found there is what gets loaded;
- an absolute path (a model trained on this machine with a local folder) is used only when it is
  a model folder of the right kind (`~`, the home folder or any other folder is refused);
- a copy takes only model files (configs, weights, tokenizer, preprocessor) as regular files,
  never anything else and never through a link that leaves the folder.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
from pathlib import Path

from intentdesk.core.errors import ModelError

# What a Hugging Face model folder holds that loading needs; an export copies these and nothing else.
MODEL_FILE_PATTERNS = (
    "config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "vocab.txt", "merges.txt", "normalizer.json", "spiece.model", "sentencepiece.bpe.model",
    "model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json",
    "pytorch_model.bin", "pytorch_model-*-of-*.bin", "pytorch_model.bin.index.json",
)
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?")
# The kinds of folder a words part may name: what each needs beside config.json (a text encoder reads
# text: a folder with an audio feature extractor is a speech model, not one).
KIND_FILES = {
    "recogniser": ("preprocessor_config.json", "processor_config.json"),
    "text_encoder": ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json"),
}
NOT_TEXT = "preprocessor_config.json"
HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model"]  # a hub snapshot: what loading reads


def is_hub_id(name: str) -> bool:
    return bool(HUB_ID.fullmatch(name)) and ".." not in name and "--" not in name


def stored_reference(source: str) -> str:
    """How a training run records a recogniser or encoder it was given: a local folder by its
    absolute path (a relative one would later resolve against whatever folder the app runs in),
    a hub id as it is."""
    path = Path(source).expanduser()
    return str(path.resolve()) if path.is_dir() else source


def resolve_part(holder: Path, source: object, part: str, file: Path, hint: str) -> str:
    """The folder to load the `part` ("recogniser" or "text_encoder") that `file` (inside `holder`)
    names as `source`; `ModelError` naming the file and entry when it points anywhere it may not
    (`ModelUnavailable` with `hint` when a hub model cannot be had)."""
    local = local_part(holder, source, part, file)
    if local is not None:
        return str(local)
    return hub_snapshot(str(source), f"the {part.replace('_', ' ')} {source!r}", hint)


def local_part(holder: Path, source: object, part: str, file: Path) -> Path | None:
    """The model folder `source` names (see `resolve_part`), or None when it is a hub id."""
    where = f"{file}: the {part!r} entry"
    if not isinstance(source, str) or not source.strip():
        raise ModelError(f"{where} does not name a model; train the model again")
    holder = holder.resolve()
    if source.startswith("~") or "\\" in source:
        raise ModelError(f"{where} names {source!r}, which is neither a model folder inside the model nor a "
                         "hub id; train the model again")
    if Path(source).is_absolute():
        return check_model_folder_kind(Path(source), part, where)
    inside = (holder / source).resolve()
    if inside.is_dir():
        if not inside.is_relative_to(holder) or inside == holder:
            raise ModelError(f"{where} names {source!r}, which leads outside {holder}; a model folder may only "
                             "name folders inside itself: train the model again")
        return check_model_folder_kind(inside, part, where)
    if not is_hub_id(source):
        raise ModelError(f"{where} names {source!r}, which is neither a folder inside {holder} nor a "
                         "Hugging Face model id; train the model again")
    return None


def check_model_folder_kind(folder: Path, part: str, where: str) -> Path:
    """`folder` if it is a model folder of the kind `part` needs, else `ModelError`."""
    folder = folder.resolve()
    if not folder.exists():
        raise ModelError(f"{where} names the {part.replace('_', ' ')} folder {str(folder)!r}, which does not exist "
                         "(moved or deleted?); put it back, or train the model again")
    wanted = KIND_FILES[part]
    right = folder.is_dir() and (folder / "config.json").is_file() and any((folder / name).is_file() for name in wanted)
    if part == "text_encoder" and (folder / NOT_TEXT).is_file():
        right = False
    if right:  # and weights: a folder of settings alone is no model, and an export would carry it for nothing
        right = any(folder.glob("*.safetensors")) or any(folder.glob("pytorch_model*.bin"))
    if not right:
        raise ModelError(f"{where} names {str(folder)!r}, which is not a {part.replace('_', ' ')} model folder "
                         f"(config.json, {' or '.join(wanted)} and weights); choose the model's folder again or train "
                         "again")
    return folder


def hub_snapshot(repo_id: str, what: str, hint: str) -> str:
    """The absolute folder of hub model `repo_id` in the Hugging Face cache, downloaded when
    missing and online (safetensors weights, else the older .bin ones). Loading that folder, not
    the id, means a folder named like the id in the working folder is never what loads."""
    from huggingface_hub import snapshot_download

    from intentdesk.core.errors import ModelUnavailable
    from intentdesk.core.models import bundled
    from intentdesk.core.models.hub import hub_error_message

    if (carried := bundled.resolve(repo_id)) != repo_id:
        return carried
    try:
        folder = snapshot_download(repo_id, allow_patterns=HUB_FILES)
        if not any(Path(folder).glob("*.safetensors")):
            folder = snapshot_download(repo_id, allow_patterns=[*HUB_FILES, "pytorch_model*.bin"])
    except Exception as error:  # noqa: BLE001 - the hub's errors are many: hub_error_message sorts them
        raise ModelUnavailable(hub_error_message(what, error), hint) from error
    return folder


def copy_model_files(source: Path, target: Path, patterns: tuple[str, ...] = MODEL_FILE_PATTERNS) -> list[str]:
    """Copy the files of `source` (flat) whose names match `patterns` into `target`, as regular
    files. A link is followed only to a file inside `source`, or, for a Hugging Face cache snapshot
    (`models--X/snapshots/REV`), inside that model's `blobs/`. Returns the names copied."""
    source = source.resolve()
    allowed = [source]
    if source.parent.name == "snapshots" and source.parent.parent.name.startswith("models--"):
        allowed.append(source.parent.parent / "blobs")
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for entry in sorted(source.iterdir()):
        if not any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in patterns):
            continue
        real = entry.resolve()
        if not real.is_file() or not any(real.is_relative_to(root) for root in allowed):
            continue
        shutil.copyfile(real, target / entry.name)
        copied.append(entry.name)
    return copied
