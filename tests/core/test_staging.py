"""Model folders: what a half-written one says, what a save may replace, what a killed save leaves
behind (and who cleans it), and how long clips are reported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core import runs
from intentdesk.core.errors import ModelError, TrainingError
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models import hub
from tests.helpers import tone


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ messages
def test_hub_error_message_is_never_cut_mid_word():
    words = [f"word{n}" for n in range(80)]
    message = hub.hub_error_message("folder x", ValueError(" ".join(words)), local=True)
    assert message.endswith("…")
    kept = message.removeprefix("cannot load folder x: ").removesuffix("…").split(" ")
    assert kept == words[: len(kept)] and 20 < len(kept) < 80


def test_local_folder_problem_is_not_blamed_on_the_hub(saved_classifier, tmp_path, monkeypatch):
    from intentdesk.core.models import backbone

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "model"
    shutil.copytree(saved_classifier, folder)
    (folder / "preprocessor_config.json").write_text('{"feature_size": 1, "sampling')
    with pytest.raises(ModelError) as error:
        backbone.load_feature_extractor(str(folder))
    assert "hub" not in str(error.value) and "preprocessor_config.json" in str(error.value)


def test_a_trained_model_can_be_the_base_for_other_labels(saved_classifier):
    """Training on top of an earlier run after adding a label: the old head (3 outputs) is replaced,
    not refused with transformers' "ignore_mismatched_sizes" error."""
    from intentdesk.core.models import backbone

    model = backbone.load_classifier_model(str(saved_classifier), ["a", "b"])
    assert model.config.id2label == {0: "a", 1: "b"} and model.classifier.out_features == 2


def test_damaged_training_settings_name_the_file(saved_classifier, tone_dataset, tmp_path):
    from intentdesk.core.inference.evaluation import evaluate_model

    folder = tmp_path / "model"
    shutil.copytree(saved_classifier, folder)
    (folder / "training_settings.json").write_text('{"eval_share": 0.')
    with pytest.raises(ModelError, match="training_settings.json: damaged.*--split all"):
        evaluate_model(folder, tone_dataset.root)


# ------------------------------------------------------------------ what a save may replace
@pytest.fixture
def saving(saved_classifier):
    """save_model_folder with a real (tiny) model: (call, settings)."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from intentdesk.core.learning.trainer import save_model_folder

    model = AutoModelForAudioClassification.from_pretrained(saved_classifier)
    extractor = AutoFeatureExtractor.from_pretrained(saved_classifier)
    settings = TrainSettings(base_model=str(saved_classifier)).resolved()
    return lambda out, accuracy=1.0: save_model_folder(model, extractor, out, {"accuracy": accuracy}, settings)


def test_save_replaces_a_model_intentdesk_trained(saving, tmp_path):
    out = saving(tmp_path / "run", accuracy=0.5)
    assert runs.is_trained_model(out)
    saving(out, accuracy=0.9)
    assert json.loads((out / "metrics.json").read_text())["accuracy"] == 0.9
    assert hidden(tmp_path) == [] and runs.STAGING_MARKER not in {p.name for p in out.iterdir()}


def test_save_into_an_empty_folder(saving, tmp_path):
    (tmp_path / "empty").mkdir()
    assert runs.is_trained_model(saving(tmp_path / "empty"))


@pytest.mark.parametrize("kind", ["users-hf-folder", "other-files", "file"])
def test_save_never_replaces_what_it_did_not_write(saving, saved_classifier, tmp_path, kind):
    out = tmp_path / "target"
    if kind == "users-hf-folder":  # a config.json is not enough: it is somebody's model
        shutil.copytree(saved_classifier, out)
    elif kind == "other-files":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    else:
        out.write_text("a file")
    before = {p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else out.read_bytes()
    with pytest.raises(TrainingError, match="choose"):
        saving(out)
    assert ({p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else out.read_bytes()) == before
    assert hidden(tmp_path) == []


def test_output_next_to_dataset_and_base_model(tmp_path, saved_classifier):
    data, base = tmp_path / "data", saved_classifier
    (data / "models").mkdir(parents=True)
    assert runs.check_output_dir(data / "models" / "run1", data, str(base)) == (data / "models" / "run1").resolve()
    for out, problem in [(data, "is the dataset"), (data / "models", "inside the dataset"),
                         (data / "clips" / "m", "inside the dataset"), (tmp_path, "contains the dataset"),
                         (base, "is the base model"), (base / "m", "inside the base model"),
                         (base.parent, "contains")]:
        with pytest.raises(TrainingError, match=problem):
            runs.check_output_dir(out, data, str(base))


def test_unwritable_output_is_refused_before_anything_runs(tmp_path, monkeypatch, tone_dataset, tiny_wav2vec2):
    from intentdesk.core.learning.trainer import train

    def read_only(*_args, **_kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(runs.tempfile, "mkdtemp", read_only)
    events = []
    with pytest.raises(TrainingError, match="cannot write there .Read-only file system"):
        train(tone_dataset.root, tmp_path / "out" / "m", TrainSettings(base_model=str(tiny_wav2vec2)), events.append)
    assert events == [] and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ what a killed save leaves
KILLED_SAVE = """
import os, sys
from pathlib import Path
from intentdesk.core.runs import staged_folder
with staged_folder(Path(sys.argv[1])) as staging:
    (staging / "config.json").write_text("{}")
    os._exit(9)  # killed half-way through writing
"""


def killed_save(out: Path) -> Path:
    subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out)], check=False, timeout=60)
    [left] = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.intentdesk-staging-")]
    return left


def test_killed_save_is_cleaned_when_runs_are_listed(tmp_path):
    models = tmp_path / "data" / "models"
    left = killed_save(models / "run1")
    assert (left / runs.STAGING_MARKER).is_file()
    unmarked = models / ".run2.intentdesk-staging-abc123"  # the name alone is not enough
    unmarked.mkdir()
    old_style = models / ".run3.k2j4h5g6"  # what earlier versions left: never ours to guess
    old_style.mkdir()
    assert runs.list_runs(tmp_path / "data") == []
    assert not left.exists() and unmarked.is_dir() and old_style.is_dir()


def test_killed_save_is_cleaned_by_the_next_save(saving, tmp_path):
    left = killed_save(tmp_path / "run")
    saving(tmp_path / "other")
    assert not left.exists() and hidden(tmp_path) == []


def test_a_running_save_is_left_alone(tmp_path):
    with runs.staged_folder(tmp_path / "run") as staging:
        (staging / "config.json").write_text("{}")
        assert runs.remove_stale_staging(tmp_path) == [] and staging.is_dir()
    assert (tmp_path / "run" / "config.json").is_file() and hidden(tmp_path) == []


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), runs.staged_folder(tmp_path / "run") as staging:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ long clips
def test_long_clip_gets_a_note_and_is_scored_on_its_start(saved_classifier, tmp_path, monkeypatch):
    from intentdesk.core.inference import classifier as inference

    monkeypatch.setattr(inference, "LONGEST_INPUT_SECONDS", 1.0)
    start = tone(300, 1.0)
    long_clip, short_clip = tmp_path / "long.wav", tmp_path / "start.wav"
    sf.write(long_clip, np.concatenate([start, tone(900, 1.5, seed=3)]), 16000)
    sf.write(short_clip, start, 16000)
    classifier = inference.Classifier(saved_classifier, precision="fp32")
    long_result, short_result = classifier.classify_files([long_clip, short_clip], batch_size=4)
    assert long_result.note == "only the first 1.0 s of 2.5 s were used"
    assert long_result.as_dict()["note"] == long_result.note and "note" not in short_result.as_dict()
    assert [p.score for p in long_result.ranking] == pytest.approx([p.score for p in short_result.ranking])


def test_whisper_window_is_reported(tiny_whisper, tmp_path, capsys):
    """Whisper sees a fixed window (30 s, or what training shortened it to): the rest of a longer
    clip was silently ignored; now the result says so, in --json and in text."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from intentdesk import cli
    from intentdesk.core.models import backbone

    model = AutoModelForAudioClassification.from_pretrained(tiny_whisper, num_labels=2)
    extractor = AutoFeatureExtractor.from_pretrained(tiny_whisper)
    backbone.fit_whisper_window(model, extractor, 1.0)
    folder = tmp_path / "whisper"
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    clip = tmp_path / "long.wav"
    sf.write(clip, tone(300, 3.0), 16000)
    assert cli.main(["classify", str(folder), str(clip), "--json", "--precision", "fp32"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["note"] == "only the first 1.0 s of 3.0 s were used"
    assert cli.main(["classify", str(folder), str(clip), "--precision", "fp32"]) == 0
    assert "(only the first 1.0 s of 3.0 s were used)" in capsys.readouterr().out
