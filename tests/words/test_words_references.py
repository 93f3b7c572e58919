"""A model folder cannot point anywhere: what its words part names is loaded or exported only
within the rules of `core.models.references` (planted folders, `..`, `~`, links, absolute paths)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.inference.words_part import load_words_part
from intentdesk.core.words.layout import copy_model_folder, part_source
from intentdesk.core.words.pipeline import WordsModel
from tests.words_models import make_words_model


@pytest.fixture
def words_model(saved_classifier, tiny_recogniser, tiny_text_encoder, tmp_path) -> Path:
    return make_words_model(saved_classifier, tmp_path / "model", tiny_recogniser, tiny_text_encoder)


def set_source(model: Path, part: str, source: str) -> dict:
    path = model / "words" / "words_config.json"
    config = json.loads(path.read_text())
    config[part]["source"] = source
    path.write_text(json.dumps(config))
    return config


def labels_of(model: Path) -> list[str]:
    config = json.loads((model / "config.json").read_text())
    return [config["id2label"][str(i)] for i in range(len(config["id2label"]))]


def test_training_records_a_local_folder_by_its_absolute_path(words_model, tiny_recogniser, tiny_text_encoder):
    config = json.loads((words_model / "words" / "words_config.json").read_text())
    assert config["recogniser"]["source"] == str(tiny_recogniser.resolve())
    assert config["text_encoder"]["source"] == str(tiny_text_encoder.resolve())


def test_a_folder_planted_in_the_working_folder_is_never_loaded(words_model, tiny_recogniser, tmp_path, monkeypatch):
    """The config names 'whisper'; ./whisper is a real recogniser, but the name is a hub id (offline here)."""
    workdir = tmp_path / "work"
    shutil.copytree(tiny_recogniser, workdir / "whisper")
    monkeypatch.chdir(workdir)
    set_source(words_model, "recogniser", "whisper")
    words, why = load_words_part(words_model, labels_of(words_model))
    assert words is None
    assert "cannot download the recogniser 'whisper'" in why and "sound only" in why


@pytest.mark.parametrize("source, said", [
    ("../../model-elsewhere", "leads outside"),
    ("../nothing/here", "neither a folder inside"),
    ("~", "neither a model folder inside the model nor a hub id"),
    ("~/whisper", "neither a model folder inside the model nor a hub id"),
    ("..", "leads outside"),
    ("", "does not name a model"),
])
def test_names_that_leave_the_model_folder_are_refused(words_model, tiny_recogniser, source, said):
    (words_model.parent / "model-elsewhere").mkdir()
    shutil.copytree(tiny_recogniser, words_model.parent / "model-elsewhere", dirs_exist_ok=True)
    config = set_source(words_model, "recogniser", source)
    with pytest.raises(ModelError, match=said) as caught:
        part_source(words_model, config, "recogniser")
    assert "words_config.json: the 'recogniser' entry" in str(caught.value)


def test_a_link_inside_the_words_folder_that_leads_out_is_refused(words_model, tiny_recogniser):
    os.symlink(tiny_recogniser, words_model / "words" / "recogniser")
    config = set_source(words_model, "recogniser", "recogniser")
    with pytest.raises(ModelError, match="leads outside"):
        part_source(words_model, config, "recogniser")


def test_an_absolute_path_must_be_a_model_folder_of_the_right_kind(words_model, tiny_recogniser, tmp_path):
    stranger = tmp_path / "my-documents"
    stranger.mkdir()
    (stranger / "taxes.txt").write_text("private")
    config = set_source(words_model, "recogniser", str(stranger))
    with pytest.raises(ModelError, match="not a recogniser model folder"):
        part_source(words_model, config, "recogniser")
    config = set_source(words_model, "text_encoder", str(tiny_recogniser))  # a model, but not an encoder
    with pytest.raises(ModelError, match="not a text encoder model folder"):
        part_source(words_model, config, "text_encoder")


def test_a_bundled_copy_inside_words_loads_and_model_info_names_it(words_model, tiny_recogniser):
    shutil.copytree(tiny_recogniser, words_model / "words" / "recogniser")
    set_source(words_model, "recogniser", "recogniser")
    words = WordsModel.load(words_model, cache_dir=False)
    assert words.transcriber.source == str((words_model / "words" / "recogniser").resolve())


def test_an_export_copies_only_model_files_and_never_follows_a_link_out(words_model, tiny_recogniser,
                                                                         tiny_text_encoder, tmp_path):
    secrets = tmp_path / "home"
    secrets.mkdir()
    (secrets / "id_rsa").write_text("PRIVATE KEY")
    (words_model / "notes.txt").write_text("the user's own notes")
    (words_model / "metrics.json").write_text("{}")
    os.symlink(secrets / "id_rsa", words_model / "model.safetensors.index.json")  # a model file name, leading out
    os.symlink(secrets, words_model / "words" / "home")
    encoder = tmp_path / "encoder"
    shutil.copytree(tiny_text_encoder, encoder)
    (encoder / "diary.txt").write_text("not a model file")
    set_source(words_model, "text_encoder", str(encoder))
    out = tmp_path / "export"
    assert copy_model_folder(words_model, out) == ["recogniser", "text_encoder"]
    exported = {str(p.relative_to(out)) for p in out.rglob("*")}
    assert "notes.txt" not in exported and "model.safetensors.index.json" not in exported
    assert not any("home" in name or "diary" in name for name in exported)
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "metrics.json",
            "words/words_config.json", "words/head.safetensors", "words/recogniser/config.json",
            "words/text_encoder/tokenizer.json"} <= exported
    words = WordsModel.load(out, cache_dir=False)
    assert words.encoder.source == str((out / "words" / "text_encoder").resolve())


def test_an_export_refuses_a_words_part_naming_the_home_folder(words_model, tmp_path):
    set_source(words_model, "recogniser", str(Path.home()))
    with pytest.raises(ModelError, match="not a recogniser model folder"):
        copy_model_folder(words_model, tmp_path / "export")


@pytest.mark.parametrize("shard", ["../../etc/passwd", "/etc/passwd", "sub/model.safetensors", 7])
def test_a_weight_index_cannot_name_files_outside_its_folder(saved_classifier, tmp_path, shard):
    from intentdesk.core.models.model_files import check_model_files

    folder = tmp_path / "sharded"
    shutil.copytree(saved_classifier, folder)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": shard}}))
    with pytest.raises(ModelError, match="weight_map.*may only name its own files"):
        check_model_files(folder)


def test_a_hub_id_loads_from_the_hugging_face_cache_not_from_a_same_named_folder(
        words_model, tiny_recogniser, tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    snapshot = cache / "models--org--asr" / "snapshots" / "rev1"
    shutil.copytree(tiny_recogniser, snapshot)
    (cache / "models--org--asr" / "refs").mkdir()
    (cache / "models--org--asr" / "refs" / "main").write_text("rev1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    workdir = tmp_path / "work"
    (workdir / "org").mkdir(parents=True)
    os.symlink(tmp_path, workdir / "org" / "asr")  # a same-named folder where the app runs
    monkeypatch.chdir(workdir)
    config = set_source(words_model, "recogniser", "org/asr")
    assert Path(part_source(words_model, config, "recogniser")) == snapshot
