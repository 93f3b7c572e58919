"""Saving model folders: what a save may replace (only a model IntentDesk trained), where a model may be
written (checked before training), and what a killed save leaves behind (and who cleans it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from intentdesk.core import runs, staging
from intentdesk.core.errors import TrainingError
from intentdesk.core.learning.settings import TrainSettings


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ what a save may replace
@pytest.fixture
def saving(saved_classifier):
    """save_model_folder with a real (tiny) model: (call, settings)."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from intentdesk.core.learning.saving import save_model_folder

    model = AutoModelForAudioClassification.from_pretrained(saved_classifier)
    extractor = AutoFeatureExtractor.from_pretrained(saved_classifier)
    settings = TrainSettings(base_model=str(saved_classifier)).resolved()
    return lambda out, accuracy=1.0: save_model_folder(model, extractor, out, runs.RunRecord(accuracy=accuracy),
                                                       settings)


def test_save_replaces_a_model_intentdesk_trained(saving, tmp_path):
    out = saving(tmp_path / "run", accuracy=0.5)
    assert runs.is_trained_model(out)
    saving(out, accuracy=0.9)
    assert json.loads((out / "metrics.json").read_text())["accuracy"] == 0.9
    assert hidden(tmp_path) == [] and staging.STAGING_MARKER not in {p.name for p in out.iterdir()}


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under `folder`."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_a_retrain_keeps_what_the_person_added_to_the_model_folder(saving, tmp_path):
    """Issue 26, item 5: a save over an earlier model replaces the model's files, not the folder."""
    out = saving(tmp_path / "run", accuracy=0.5)
    (out / "notes.txt").write_text("why this run")
    (out / "mine").mkdir()
    (out / "mine" / "listening.txt").write_text("clip 3 sounds odd")
    (out / ".git").mkdir()
    saving(out, accuracy=0.9)
    assert json.loads((out / "metrics.json").read_text())["accuracy"] == 0.9
    assert (out / "notes.txt").read_text() == "why this run"
    assert (out / "mine" / "listening.txt").read_text() == "clip 3 sounds odd" and (out / ".git").is_dir()
    assert hidden(tmp_path) == []


def test_a_retrain_drops_the_earlier_models_own_files_it_does_not_write(saving, tmp_path):
    """A words part, an old settings file or .bin weights of the earlier model would not fit the new one."""
    out = saving(tmp_path / "run")
    (out / "words").mkdir()
    (out / "words" / "words_config.json").write_text("{}")
    for name in ("training_settings.json", "pytorch_model.bin", "model-00001-of-00002.safetensors"):
        (out / name).write_text("earlier")
    saving(out)
    assert sorted(p.name for p in out.iterdir()) == ["checksums.json", "config.json", "metrics.json",
                                                     "model.safetensors", "preprocessor_config.json",
                                                     "run_settings.json"]


def test_a_model_folder_keeps_its_access_rights(saving, tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    out = saving(tmp_path / "run")
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's private 0700
    out.chmod(0o750)
    saving(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750


class SafetensorError(Exception):
    """What safetensors raises on a full disk: its own type, the OS error only in the text."""


def weights_do_not_fit(self, folder, *args, **kwargs):
    (Path(folder) / "model.safetensors").write_bytes(b"half a")
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


def settings_do_not_fit(path, *args, **kwargs):
    raise OSError(28, "No space left on device", str(path))


@pytest.mark.parametrize("where, target, replacement", [
    ("weights", "transformers.PreTrainedModel.save_pretrained", weights_do_not_fit),
    ("settings", "pathlib.Path.write_text", settings_do_not_fit),
    ("marker", "intentdesk.core.staging._hold_marker", settings_do_not_fit),
])
def test_a_save_on_a_full_disk_leaves_the_earlier_model_as_it_was(saving, saved_classifier, tmp_path, monkeypatch,
                                                                    where, target, replacement):
    """Issue 26, item 6: the disk is full, said so (never "unexpected SafetensorError"), the partial
    copy is removed, and the earlier model (and the person's notes in it) is untouched and loads."""
    from transformers import AutoModelForAudioClassification

    from intentdesk.core.errors import DiskFull

    out = saving(tmp_path / "run", accuracy=0.5)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    monkeypatch.setattr(target, replacement)
    with pytest.raises(DiskFull) as caught:
        saving(out, accuracy=0.9)
    monkeypatch.undo()
    assert str(caught.value).startswith(f"the disk holding {tmp_path} is full (")
    assert str(caught.value).endswith(f"the model was not saved to {out} (the earlier model there is unchanged)")
    assert snapshot(out) == before and hidden(tmp_path) == []
    AutoModelForAudioClassification.from_pretrained(out)


def test_a_first_save_on_a_full_disk_leaves_nothing(saving, tmp_path, monkeypatch):
    from intentdesk.core.errors import DiskFull

    monkeypatch.setattr("transformers.PreTrainedModel.save_pretrained", weights_do_not_fit)
    with pytest.raises(DiskFull, match="the model was not saved to .*run$"):
        saving(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_save_on_a_real_full_disk(saving, tmp_path):
    """The same on a small tmpfs (skipped where mounting is not permitted)."""
    from intentdesk.core.errors import DiskFull
    from tests.disk_full import fill, small_disk

    with small_disk(tmp_path / "disk") as disk:
        out = saving(disk / "run", accuracy=0.5)
        (out / "notes.txt").write_text("mine")
        before = snapshot(out)
        fill(disk, leave=60_000)  # less than the weights need
        with pytest.raises(DiskFull, match=f"the disk holding {disk} is full"):
            saving(out, accuracy=0.9)
        assert snapshot(out) == before and hidden(disk) == []
        (disk / "filler").unlink()
        saving(out, accuracy=0.9)
        assert (out / "notes.txt").read_text() == "mine"
        fill(disk, leave=0)
        runs.delete_run(out)
        assert hidden(disk) == [] and not out.exists()


def test_a_run_can_be_deleted_on_a_full_disk(saving, tmp_path, monkeypatch):
    """Deleting a run is how a full disk gets space back: it must not need any itself."""
    out = saving(tmp_path / "run")
    monkeypatch.setattr(Path, "write_text", settings_do_not_fit)
    runs.delete_run(out)
    assert list(tmp_path.iterdir()) == []


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
    assert staging.check_output_dir(data / "models" / "run1", data, str(base)) == (data / "models" / "run1").resolve()
    for out, problem in [(data, "is the dataset"), (data / "models", "inside the dataset"),
                         (data / "clips" / "m", "inside the dataset"), (tmp_path, "contains the dataset"),
                         (base, "is the base model"), (base / "m", "inside the base model"),
                         (base.parent, "contains")]:
        with pytest.raises(TrainingError, match=problem):
            staging.check_output_dir(out, data, str(base))


def test_unwritable_output_is_refused_before_anything_runs(tmp_path, monkeypatch, tone_dataset, tiny_wav2vec2):
    from intentdesk.core.learning.trainer import train

    def read_only(*_args, **_kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(staging.tempfile, "mkdtemp", read_only)
    events = []
    with pytest.raises(TrainingError, match="cannot write there .Read-only file system"):
        train(tone_dataset.root, tmp_path / "out" / "m", TrainSettings(base_model=str(tiny_wav2vec2)), events.append)
    assert events == [] and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ what a killed save leaves
KILLED_SAVE = """
import os, sys
from pathlib import Path
from intentdesk.core.staging import staged_folder
with staged_folder(Path(sys.argv[1])) as staging:
    (staging / "config.json").write_text("{}")
    os._exit(9)  # killed half-way through writing
"""


def killed_save(out: Path) -> Path:
    subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out)], check=False, timeout=300)
    [left] = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.intentdesk-staging-")]
    return left


def test_killed_save_is_cleaned_when_runs_are_listed(tmp_path):
    models = tmp_path / "data" / "models"
    left = killed_save(models / "run1")
    assert (left / staging.STAGING_MARKER).is_file()
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
    with staging.staged_folder(tmp_path / "run") as folder:
        (folder / "config.json").write_text("{}")
        assert staging.remove_stale_staging(tmp_path) == [] and folder.is_dir()
    assert (tmp_path / "run" / "config.json").is_file() and hidden(tmp_path) == []


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), staging.staged_folder(tmp_path / "run") as folder:
        (folder / "config.json").write_text("{}")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_config_nested_too_deep_is_not_a_trained_model_and_raises_nothing(tmp_path):
    from intentdesk.core.staging import is_trained_model

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "metrics.json").write_text("{}")
    (folder / "run_settings.json").write_text("{}")
    assert not is_trained_model(folder)
