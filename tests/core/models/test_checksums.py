"""Weight files checked against the digests saved with the model (`core.models.checksums`): a flipped bit in
the weights is refused by name, not loaded as a model that ranks by damaged numbers; a damaged words head
falls back to sound only and says so; what checksums.json names is untrusted like the rest of the folder."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.models.checksums import CHECKSUMS, file_digest, write_checksums
from intentdesk.core.models.model_files import check_classifier_folder
from intentdesk.core.words.layout import copy_model_folder


def flip_a_bit_in_the_numbers(weights: Path) -> None:
    """One bit in the middle of a safetensors file's tensor data: the header still parses, the file loads."""
    data = bytearray(weights.read_bytes())
    start = 8 + struct.unpack("<Q", data[:8])[0]
    data[start + (len(data) - start) // 2] ^= 0x10
    weights.write_bytes(bytes(data))


@pytest.fixture
def model_copy(tone_model, tmp_path) -> Path:
    return Path(shutil.copytree(tone_model, tmp_path / "copy"))


def test_a_trained_model_records_its_weights_digests(tone_model):
    saved = json.loads((tone_model / CHECKSUMS).read_text())
    assert saved["algorithm"] == "sha256"
    assert saved["files"] == {"model.safetensors": file_digest(tone_model / "model.safetensors")}


def test_a_flipped_bit_in_the_weights_is_refused_by_name(model_copy):
    Classifier(model_copy, precision="fp32")  # loads as saved
    flip_a_bit_in_the_numbers(model_copy / "model.safetensors")
    for load in (check_classifier_folder, lambda folder: Classifier(folder, precision="fp32")):
        with pytest.raises(ModelError, match=r"model\.safetensors: its contents differ from when the model was "
                                             r"saved \(checksums\.json\): the file is damaged; copy the whole"):
            load(model_copy)


def test_a_folder_without_checksums_loads_as_before(model_copy):
    """Hub models and folders from an earlier IntentDesk have no checksums.json: nothing to check against."""
    (model_copy / CHECKSUMS).unlink()
    flip_a_bit_in_the_numbers(model_copy / "model.safetensors")
    assert Classifier(model_copy, precision="fp32").labels == ["high", "low", "mid"]


@pytest.mark.parametrize(("files", "message"), [
    ({"../../etc/passwd": "0" * 64}, "not a file inside the model folder"),
    ({"/etc/passwd": "0" * 64}, "not a file inside the model folder"),
    ({"model.safetensors": "not-a-digest"}, "is not a SHA-256 digest"),
    ({"model.safetensors": 7}, "is not a SHA-256 digest"),
    ([], "not a checksums file this IntentDesk reads"),
    ({"./model.safetensors": "0" * 64}, "not a file inside the model folder"),  # checked by one name, looked up
    ({"model.safetensors/": "0" * 64}, "not a file inside the model folder"),  # by another: nothing checked
    ({".//model.safetensors": "0" * 64}, "not a file inside the model folder"),
    ({}, r"model\.safetensors: not listed in checksums\.json"),
    ({"modem.safetensors": "0" * 64}, r"model\.safetensors: not listed in checksums\.json"),  # a flipped bit in a key
])
def test_what_checksums_json_names_is_checked_before_anything_is_read(model_copy, files, message):
    (model_copy / CHECKSUMS).write_text(json.dumps({"algorithm": "sha256", "files": files}))
    with pytest.raises(ModelError, match=message):
        check_classifier_folder(model_copy)


def test_a_damaged_or_huge_checksums_file_is_named(model_copy):
    (model_copy / CHECKSUMS).write_text('{"algorithm": "sha256", "files": {')
    with pytest.raises(ModelError, match=r"checksums\.json: damaged"):
        check_classifier_folder(model_copy)
    (model_copy / CHECKSUMS).write_text(" " * (2 << 20) + "{}")
    with pytest.raises(ModelError, match=r"checksums\.json: damaged"):
        check_classifier_folder(model_copy)


def test_a_damaged_words_head_falls_back_to_sound_and_says_why(saved_words_classifier, tmp_path):
    model = Path(shutil.copytree(saved_words_classifier, tmp_path / "words-copy"))
    write_checksums(model, ["model.safetensors", "words/head.safetensors"])
    assert Classifier(model, precision="fp32").words_problem is None
    flip_a_bit_in_the_numbers(model / "words" / "head.safetensors")
    classifier = Classifier(model, precision="fp32")
    assert not classifier.has_words
    assert "head.safetensors: its contents differ from when the model was saved" in classifier.words_problem


def test_an_exported_copy_keeps_its_checksums(tone_model, tmp_path):
    target = tmp_path / "export"
    copy_model_folder(tone_model, target)
    assert (target / CHECKSUMS).read_text() == (tone_model / CHECKSUMS).read_text()
    check_classifier_folder(target)


def test_a_folder_is_hashed_once_per_process_until_a_file_changes(model_copy, monkeypatch):
    """classify and evaluate check a folder before the slow load, and the load checks it again."""
    from intentdesk.core.models import checksums

    hashed = []
    real = checksums.file_digest
    monkeypatch.setattr(checksums, "file_digest", lambda path: hashed.append(path.name) or real(path))
    check_classifier_folder(model_copy)
    check_classifier_folder(model_copy)
    assert hashed == ["model.safetensors"]
    flip_a_bit_in_the_numbers(model_copy / "model.safetensors")  # written again: a new change time
    with pytest.raises(ModelError, match="damaged"):
        check_classifier_folder(model_copy)


def test_a_checksums_json_that_is_not_a_file_is_refused(model_copy):
    (model_copy / CHECKSUMS).unlink()
    (model_copy / CHECKSUMS).mkdir()
    with pytest.raises(ModelError, match=r"checksums\.json: is not a file"):
        check_classifier_folder(model_copy)


def test_a_damaged_model_is_refused_as_a_base_to_train_from(model_copy):
    """Training from it would have made a new model, and a checksums.json vouching for the damage."""
    from intentdesk.core.models.hub import check_local_model

    assert check_local_model(str(model_copy))
    flip_a_bit_in_the_numbers(model_copy / "model.safetensors")
    with pytest.raises(ModelError, match="damaged"):
        check_local_model(str(model_copy))


def test_a_words_part_added_to_a_saved_model_joins_its_checksums(model_copy, saved_words_classifier):
    from intentdesk.core.words.layout import load_words, save_words

    config, head, _fusion = load_words(saved_words_classifier)
    save_words(model_copy, {key: config[key] for key in ("recogniser", "text_encoder", "fusion")}, head)
    listed = json.loads((model_copy / CHECKSUMS).read_text())["files"]
    assert set(listed) == {"model.safetensors", "words/head.safetensors"}
    assert listed["words/head.safetensors"] == file_digest(model_copy / "words" / "head.safetensors")


def test_export_serve_refuses_a_model_whose_words_head_is_damaged(saved_words_classifier, tmp_path):
    """The Ray Serve copy would have ranked by sound only, saying so nowhere but in each answer."""
    from intentdesk.service.ray_export import export_ray_app

    model = Path(shutil.copytree(saved_words_classifier, tmp_path / "words-copy"))
    write_checksums(model, ["model.safetensors", "words/head.safetensors"])
    flip_a_bit_in_the_numbers(model / "words" / "head.safetensors")
    with pytest.raises(ModelError, match=r"head\.safetensors: its contents differ"):
        export_ray_app(model, tmp_path / "app")
    assert not (tmp_path / "app").exists()
