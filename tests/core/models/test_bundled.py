"""Models bundled into a packaged app (issue 21, `make dist MODELS=...`): the build step sorts folders into
roles and writes the manifest; the catalogue lists them as bundled and loading prefers them over the hub
when the Hugging Face cache does not hold the model. No build: a fake app folder."""

import json

import pytest

from intentdesk.core.models import bundled, catalogue
from intentdesk.core.models.catalogue import BASE_MODEL, RECOGNISER, TEXT_ENCODER, State
from intentdesk.core.packaging.bundle_models import bundle_models
from intentdesk.core.packaging.linux import PackagingError
from tests.models_hub import cached_model, model_folder


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A frozen app's folder whose models/ the catalogue reads (as it reads the one beside the executable)."""
    folder = tmp_path / "IntentDesk"
    folder.mkdir()
    monkeypatch.setenv(bundled.ENV, str(folder / bundled.FOLDER))
    return folder


def test_each_folder_is_bundled_for_its_role_and_stands_for_the_default(tmp_path, app, hf_cache):
    folders = [model_folder(tmp_path / kind, kind) for kind in ("base", "recogniser", "text_encoder")]
    entries = bundle_models(folders, app)
    assert entries == {BASE_MODEL.default: {"folder": "facebook--wav2vec2-base", "role": "base_model"},
                       RECOGNISER.default: {"folder": "openai--whisper-tiny.en", "role": "asr"},
                       TEXT_ENCODER.default: {"folder": "sentence-transformers--all-MiniLM-L6-v2",
                                              "role": "text_encoder"}}
    for role in (BASE_MODEL, RECOGNISER, TEXT_ENCODER):
        status = catalogue.status_of(role, role.default)
        assert status.state is State.BUNDLED and status.ready and "bundled with the app" in status.text
        assert catalogue.missing_reason(role, role.default, reachable=lambda: False) is None, "offline, at once"
        assert bundled.resolve(role.default) == str(app / "models" / entries[role.default]["folder"])
    assert (app / "models" / "openai--whisper-tiny.en" / "model.safetensors").is_file()


def test_a_cache_snapshot_stands_for_its_own_hub_id(tmp_path, app, monkeypatch, hf_cache):
    snapshot = cached_model(tmp_path / "elsewhere", "org/asr-small", "recogniser")
    assert bundle_models([snapshot], app) == {"org/asr-small": {"folder": "org--asr-small", "role": "asr"}}
    assert catalogue.status_of(RECOGNISER, "org/asr-small").state is State.BUNDLED
    assert catalogue.status_of(RECOGNISER, RECOGNISER.default).state is State.NOT_DOWNLOADED


def test_the_cache_wins_over_the_bundled_copy_and_ids_not_carried_are_left_alone(tmp_path, app, hf_cache):
    bundle_models([model_folder(tmp_path / "asr", "recogniser")], app)
    assert bundled.resolve("org/other") == "org/other"
    cached = cached_model(hf_cache, RECOGNISER.default, "recogniser")
    assert cached.is_dir()
    assert bundled.resolve(RECOGNISER.default) == RECOGNISER.default, "the hub id loads the newer download"
    assert catalogue.status_of(RECOGNISER, RECOGNISER.default).state is State.DOWNLOADED


def test_a_build_without_models_takes_out_those_of_the_last_build(tmp_path, app, hf_cache):
    bundle_models([model_folder(tmp_path / "asr", "recogniser")], app)
    assert bundle_models([], app) == {}
    assert not (app / "models").exists() and bundled.bundled_models() == {}
    assert catalogue.status_of(RECOGNISER, RECOGNISER.default).state is State.NOT_DOWNLOADED


@pytest.mark.parametrize(("make", "says"), [
    (lambda tmp: tmp / "gone", "model folder not found"),
    (lambda tmp: (tmp / "data").mkdir() or (tmp / "data"), "not a model folder the app can use"),
], ids=["missing", "not-a-model"])
def test_a_folder_that_is_not_a_model_stops_the_build_with_its_name(tmp_path, app, make, says):
    folder = make(tmp_path)
    with pytest.raises(PackagingError, match=says) as caught:
        bundle_models([folder], app)
    assert str(folder) in str(caught.value)


def test_two_folders_for_the_same_model_are_refused(tmp_path, app):
    with pytest.raises(PackagingError, match="a second folder for openai/whisper-tiny.en"):
        bundle_models([model_folder(tmp_path / "a", "recogniser"), model_folder(tmp_path / "b", "recogniser")], app)


@pytest.mark.parametrize("manifest", [
    "{not json", json.dumps([1]), json.dumps({"models": {"org/x": {"folder": "../outside", "role": "asr"}}}),
    json.dumps({"models": {"org/x": {"folder": "absent", "role": "asr"}}}),
], ids=["damaged", "not-an-object", "leads-outside", "folder-missing"])
def test_a_manifest_that_cannot_be_trusted_counts_as_nothing_bundled(tmp_path, app, manifest, hf_cache):
    model_folder(tmp_path / "outside", "recogniser")
    (app / "models").mkdir()
    (app / "models" / bundled.MANIFEST).write_text(manifest)
    assert bundled.bundled_models() == {}
    assert bundled.resolve("org/x") == "org/x"


def test_a_source_install_bundles_nothing(monkeypatch):
    monkeypatch.delenv(bundled.ENV, raising=False)
    assert bundled.bundled_root() is None and bundled.bundled_models() == {}
