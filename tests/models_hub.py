"""Model folders and a Hugging Face hub for the Models tests, without torch or the network: folders
with the files each kind of model holds, a cache laid out as huggingface_hub lays it out, and a fake
hub whose downloads call the progress bar the way huggingface_hub does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

KIND_FILES = {  # what each kind of folder holds beside config.json and the weights
    "base": {"preprocessor_config.json": {}},
    "recogniser": {"preprocessor_config.json": {}, "tokenizer_config.json": {}},
    "text_encoder": {"tokenizer_config.json": {}, "vocab.txt": "[PAD]\n"},
}
ARCHITECTURES = {"base": "Wav2Vec2ForPreTraining", "recogniser": "WhisperForConditionalGeneration",
                 "text_encoder": "BertModel"}


def empty_safetensors() -> bytes:
    """A weights file with no tensors: a valid header, nothing cut off."""
    header = b"{}"
    return len(header).to_bytes(8, "little") + header


def model_folder(folder: Path, kind: str) -> Path:
    """A folder with the files a model of `kind` ("base", "recogniser", "text_encoder") holds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"architectures": [ARCHITECTURES[kind]]}))
    (folder / "model.safetensors").write_bytes(empty_safetensors())
    for name, content in KIND_FILES[kind].items():
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return folder


def use_cache(monkeypatch, cache: Path) -> Path:
    """Point huggingface_hub at `cache` (it reads HF_HUB_CACHE once, at import: the constant too)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    return cache


def cached_model(cache: Path, repo_id: str, kind: str, revision: str = "rev1") -> Path:
    """`repo_id` as a finished download leaves it: models--org--name/snapshots/REV/… and refs/main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = model_folder(repo / "snapshots" / revision, kind)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


@dataclass
class FakeHub:
    """`HfApi.model_info` and `hf_hub_download` for a few repos: each file is written chunk by chunk to
    `blobs/NAME.incomplete` (as huggingface_hub before 2.x does), reported through `tqdm_class`, then
    moved into place and linked from `snapshots/SHA/`."""

    cache: Path
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    chunk: int = 1000
    fetched: list[str] = field(default_factory=list)

    def add(self, repo_id: str, kind: str = "recogniser", weights: int = 10_000, extra: dict | None = None) -> None:
        files = {"config.json": json.dumps({"architectures": [ARCHITECTURES[kind]]}).encode(),
                 "model.safetensors": empty_safetensors() + b" " * weights}
        files.update({name: (content if isinstance(content, str) else json.dumps(content)).encode()
                      for name, content in KIND_FILES[kind].items()})
        files.update(extra or {})
        self.repos[repo_id] = files

    def model_info(self, repo_id: str, **_kwargs):
        if repo_id not in self.repos:
            from huggingface_hub.errors import RepositoryNotFoundError

            error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # its HTTP response type varies
            Exception.__init__(error, f"404 Client Error. Repository Not Found for url: .../models/{repo_id}")
            raise error
        siblings = [SimpleNamespace(rfilename=name, size=len(data)) for name, data in self.repos[repo_id].items()]
        return SimpleNamespace(sha="sha1", siblings=siblings)

    def hf_hub_download(self, repo_id: str, filename: str, *, revision: str, tqdm_class, **_kwargs) -> str:
        data = self.repos[repo_id][filename]
        repo = self.cache / ("models--" + repo_id.replace("/", "--"))
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        blob = repo / "blobs" / filename.replace("/", "_")
        part = blob.with_name(blob.name + ".incomplete")
        bar = tqdm_class(total=len(data), initial=0, desc=filename, unit="B", unit_scale=True)
        with part.open("wb") as handle:
            for start in range(0, len(data), self.chunk):
                piece = data[start:start + self.chunk]
                handle.write(piece)
                bar.update(len(piece))
        bar.close()
        part.replace(blob)
        target = repo / "snapshots" / revision / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(blob)
        self.fetched.append(filename)
        return str(target)

    def install(self, monkeypatch) -> FakeHub:
        import huggingface_hub

        monkeypatch.setattr(huggingface_hub.HfApi, "model_info", self.model_info)
        monkeypatch.setattr(huggingface_hub, "hf_hub_download", self.hf_hub_download)
        return self


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache of this test's own."""
    return use_cache(monkeypatch, tmp_path / "hf-cache")


@pytest.fixture
def fake_hub(hf_cache, monkeypatch) -> FakeHub:
    return FakeHub(hf_cache).install(monkeypatch)
