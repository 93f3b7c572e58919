"""An app for someone else (core/packaging): one archive with the app's files, the model, its words part and the
marker; its facts; refusals that change nothing. A fake packaged app stands in for PyInstaller's folder."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.events import StageEvent
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.packaging import archive, carried, export_app
from intentdesk.core.words.layout import load_words
from tests.apps import fake_app, unpack


@pytest.fixture
def app(tmp_path) -> Path:
    return fake_app(tmp_path / "dist" / "IntentDesk")


@pytest.fixture
def run_in_dataset(tmp_path, tone_model) -> Path:
    """The trained tone model where Train saves runs: DATASET/models/RUN."""
    dataset = tmp_path / "calls"
    dataset.mkdir()
    (dataset / "metadata.csv").write_text("file_name,label\n")
    return Path(shutil.copytree(tone_model, dataset / "models" / "tones-quick"))


def test_one_archive_holds_the_app_the_model_and_its_marker(tmp_path, app, run_in_dataset):
    events = []
    out = export_app.export_app(run_in_dataset, tmp_path / "out" / "for-anna.tar.gz", app_folder=app,
                                on_event=events.append)
    assert out == tmp_path / "out" / "for-anna.tar.gz" and out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["for-anna.tar.gz"]  # no scratch or partial file left
    top = unpack(out, tmp_path / "unpacked")
    assert top.name == "IntentDesk-tones-quick"
    assert (top / "IntentDesk").read_text() == (app / "IntentDesk").read_text()
    assert os.access(top / "IntentDesk", os.X_OK)
    assert (top / "_internal" / "libpython.so").read_bytes() == (app / "_internal" / "libpython.so").read_bytes()
    assert os.readlink(top / "_internal" / "libpython.so.1") == "libpython.so"
    assert not (top / "_internal" / "elsewhere").exists() and not (top / "_internal" / "elsewhere").is_symlink()
    assert not (top / "models").exists()  # the training models stay out
    assert sorted(p.name for p in (top / "tones-quick").iterdir()) == sorted(
        p.name for p in run_in_dataset.iterdir() if p.is_file())
    desktop = (top / "IntentDesk-tones-quick.desktop").read_text()
    assert "Exec=sh -c" in desktop and "%k" in desktop and "Name=IntentDesk: tones-quick" in desktop
    facts = carried.read_carried(top)
    assert facts.model_dir == top / "tones-quick"  # the model's own name: the Model panel shows it
    assert "Model: tones-quick, trained on calls (" in (top / "README.txt").read_text()
    fractions = [e.fraction for e in events if isinstance(e, StageEvent) and e.fraction is not None]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_the_marker_says_what_the_model_was_trained_on(run_in_dataset, tone_model):
    from intentdesk.core.runs import read_record

    record = read_record(tone_model)
    facts = carried.facts_of(run_in_dataset)
    assert facts.name == "tones-quick" and facts.labels == record.labels == ["high", "low", "mid"]
    assert facts.dataset == "calls" and facts.clips == record.train_clips + record.eval_clips == 24
    assert facts.base_model == Path(record.base_model).name and facts.mode == "quick"  # not the trainer's folders
    assert len(facts.trained) == 10 and facts.trained.startswith("20")
    assert facts.line() == f"Model: tones-quick, trained on calls (24 clips, {facts.trained}); intents: high, low, mid"
    assert carried.facts_of(tone_model).line() == \
        f"Model: model, trained on 24 clips ({facts.trained}); intents: high, low, mid"  # not in a dataset


def test_a_words_model_carries_its_recogniser_and_encoder(tmp_path, app, saved_words_classifier):
    out = export_app.export_app(saved_words_classifier, tmp_path / "words.tar.gz", app_folder=app)
    model = carried.read_carried(unpack(out, tmp_path / "unpacked")).model_dir
    config, _head, _fusion = load_words(model)
    assert config["recogniser"]["source"] == "recogniser" and config["text_encoder"]["source"] == "text_encoder"
    assert (model / "words" / "recogniser" / "model.safetensors").is_file()
    classifier = Classifier(model, precision="fp32")  # what the carried app loads: both parts, from inside model/
    assert classifier.has_words and classifier.words_problem is None


def test_hub_recogniser_and_encoder_come_from_the_cache(tmp_path, monkeypatch, app, saved_words_classifier,
                                                        tiny_recogniser, tiny_text_encoder):
    """A model trained with hub ids (the defaults) works offline on the other computer: the cached folders travel."""
    from tests.models_hub import use_cache

    cache = use_cache(monkeypatch, tmp_path / "hub")
    for repo_id, folder in (("org/tiny-asr", tiny_recogniser), ("org/tiny-enc", tiny_text_encoder)):
        repo = cache / ("models--" + repo_id.replace("/", "--"))
        shutil.copytree(folder, repo / "snapshots" / "rev1")
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("rev1")
    model = Path(shutil.copytree(saved_words_classifier, tmp_path / "hub-words"))
    config_file = model / "words" / "words_config.json"
    config = json.loads(config_file.read_text())
    config["recogniser"]["source"], config["text_encoder"]["source"] = "org/tiny-asr", "org/tiny-enc"
    config_file.write_text(json.dumps(config))
    carried_model = carried.read_carried(unpack(export_app.export_app(model, tmp_path / "hub.tar.gz", app_folder=app),
                                                tmp_path / "unpacked")).model_dir
    copied = load_words(carried_model)[0]
    assert (copied["recogniser"]["source"], copied["text_encoder"]["source"]) == ("recogniser", "text_encoder")
    assert (carried_model / "words" / "recogniser" / "config.json").read_bytes() == \
        (tiny_recogniser / "config.json").read_bytes()


def test_a_hub_part_not_on_this_computer_is_named(tmp_path, monkeypatch, app, saved_words_classifier):
    from tests.models_hub import use_cache

    use_cache(monkeypatch, tmp_path / "empty-hub")
    model = Path(shutil.copytree(saved_words_classifier, tmp_path / "hub-words"))
    config_file = model / "words" / "words_config.json"
    config = json.loads(config_file.read_text())
    config["recogniser"]["source"] = "org/not-downloaded"
    config_file.write_text(json.dumps(config))
    (tmp_path / "out").mkdir()
    with pytest.raises(IntentDeskError, match="org/not-downloaded.*must be on this computer first"):
        export_app.export_app(model, tmp_path / "out" / "x.tar.gz", app_folder=app)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(not archive.zstd_available(), reason="no zstandard module or zstd program here")
def test_zstd_archive_by_default(tmp_path, app, saved_classifier):
    out = export_app.export_app(saved_classifier, tmp_path / "plain", app_folder=app)
    assert out.name == "plain.tar.zst"
    top = unpack(out, tmp_path / "unpacked")
    assert (top / saved_classifier.name / "config.json").read_bytes() == (saved_classifier / "config.json").read_bytes()


def test_refusals_change_nothing(tmp_path, app, saved_classifier):
    not_model = tmp_path / "notes"
    not_model.mkdir()
    (not_model / "a.txt").write_text("hello")
    with pytest.raises(IntentDeskError, match="config.json"):
        export_app.export_app(not_model, tmp_path / "x.tar.gz", app_folder=app)
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"mine")
    with pytest.raises(IntentDeskError, match="already exists"):
        export_app.export_app(saved_classifier, taken, app_folder=app)
    assert taken.read_bytes() == b"mine"
    with pytest.raises(IntentDeskError, match="not a packaged IntentDesk folder"):
        export_app.export_app(saved_classifier, tmp_path / "y.tar.gz", app_folder=not_model)
    with pytest.raises(IntentDeskError, match="inside the app folder"):
        export_app.export_app(saved_classifier, app / "z.tar.gz", app_folder=app)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "notes", "taken.tar.gz"]


def test_no_packaged_app_from_a_source_install_says_what_to_do(tmp_path, monkeypatch, saved_classifier):
    monkeypatch.setattr(export_app, "source_root", lambda: tmp_path / "checkout")  # no dist/, no build script
    with pytest.raises(IntentDeskError, match="make dist"):
        export_app.export_app(saved_classifier, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def test_a_source_checkout_uses_its_dist_folder(tmp_path, monkeypatch, saved_classifier):
    fake_app(tmp_path / "checkout" / "dist" / "IntentDesk")
    monkeypatch.setattr(export_app, "source_root", lambda: tmp_path / "checkout")
    top = unpack(export_app.export_app(saved_classifier, tmp_path / "x.tar.gz"), tmp_path / "unpacked")
    assert (top / "IntentDesk").is_file() and (carried.read_carried(top).model_dir / "config.json").is_file()


def test_the_frozen_app_copies_its_own_folder(tmp_path, monkeypatch, app, saved_classifier):
    monkeypatch.setattr(export_app, "is_frozen", lambda: True)
    monkeypatch.setattr("sys.executable", str(app / "IntentDesk"))
    assert export_app.find_app_folder() == app.resolve()


def test_the_model_folder_never_takes_the_name_of_an_app_entry(app):
    assert export_app.model_folder_name("calls: quick", app) == "calls-quick"
    assert export_app.model_folder_name("_internal", app) == "model-_internal"
    assert export_app.model_folder_name("models", app) == "model-models"


def test_an_app_made_from_an_app_made_for_others_carries_only_the_new_model(tmp_path, app, run_in_dataset,
                                                                           saved_classifier):
    first = unpack(export_app.export_app(run_in_dataset, tmp_path / "first.tar.gz", app_folder=app),
                   tmp_path / "first")
    top = unpack(export_app.export_app(saved_classifier, tmp_path / "second.tar.gz", app_folder=first),
                 tmp_path / "second")
    assert not (top / "tones-quick").exists() and not (top / "IntentDesk-tones-quick.desktop").exists()
    assert carried.read_carried(top).name == saved_classifier.name


def test_cancel_leaves_no_file(tmp_path, app, saved_classifier):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(archive.PackCancelled):
        export_app.export_app(saved_classifier, tmp_path / "out" / "x.tar.gz", app_folder=app, cancel=cancel)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_changed_marker_is_refused_naming_it(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    facts = carried.CarriedModel(name="m", labels=["a", "b"])
    (tmp_path / carried.MARKER).write_bytes(facts.to_json())
    assert carried.read_carried(tmp_path).labels == ["a", "b"]
    for change, words in (({"model_folder": "../elsewhere"}, "not a folder name"), ({"labels": []}, "'labels'"),
                          ({"clips": -1}, "'clips'"), ({"version": 99}, "newer IntentDesk"),
                          ({"format": "x"}, "not an IntentDesk carried-model file")):
        document = {**json.loads(facts.to_json()), **change}
        (tmp_path / carried.MARKER).write_text(json.dumps(document))
        with pytest.raises(IntentDeskError, match=words):
            carried.read_carried(tmp_path)
    with pytest.raises(IntentDeskError, match="has no carried_model.json"):
        carried.read_carried(tmp_path / "model")


def test_the_frozen_app_finds_the_marker_beside_its_executable(tmp_path, monkeypatch, tone_model):
    from tests.apps import carried_app

    folder = carried_app(fake_app(tmp_path / "IntentDesk-tones"), tone_model)
    monkeypatch.delenv(carried.ENV, raising=False)
    monkeypatch.setattr("sys.executable", str(folder / "IntentDesk"))
    assert carried.find_carried() is None  # run from Python: an ordinary IntentDesk
    monkeypatch.setattr(carried, "is_frozen", lambda: True)
    assert carried.find_carried().model_dir == (folder / "model").resolve()
    monkeypatch.setattr("sys.executable", str(tmp_path / "elsewhere" / "IntentDesk"))
    assert carried.find_carried() is None  # a packaged app without the marker
    monkeypatch.setenv(carried.ENV, str(folder))
    assert carried.find_carried().name == "model"
