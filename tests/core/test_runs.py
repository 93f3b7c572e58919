"""RunRecord is the one reader and writer of metrics.json; runs are listed, renamed and deleted only when
IntentDesk trained them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intentdesk.core import runs
from intentdesk.core.errors import TrainingError


def fake_run(folder: Path, **metrics) -> Path:
    """A folder that looks like a model IntentDesk trained (what `is_trained_model` checks)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"intentdesk": {"mode": "quick"}}))
    (folder / "training_settings.json").write_text("{}")
    runs.RunRecord(**metrics).write(folder)
    return folder


def test_record_round_trips_through_metrics_json(tmp_path):
    record = runs.RunRecord(mode="quick", base_model="b", best_epoch=3, accuracy=0.75, f1={"macro": 0.5},
                            history=[{"epoch": 1}], step_losses=[1.0, 0.5], labels=["a", "b"],
                            final_pass_losses=[[0.5, 0.9], [1.0, 0.4]])
    folder = fake_run(tmp_path / "run", **{k: v for k, v in record.metrics.items()})
    again = runs.read_run(folder)
    assert again.metrics == record.metrics and again.path == folder and again.created > 0
    assert again.accuracy == 0.75 and again.macro_f1 == 0.5 and again.name == "run"
    assert "path" not in json.loads((folder / "metrics.json").read_text())


def test_damaged_or_missing_metrics_still_read(tmp_path):
    """A wrongly typed value gets its default instead of breaking a list of runs or a model load."""
    folder = fake_run(tmp_path / "run")
    (folder / "metrics.json").write_text(json.dumps({"accuracy": "high", "f1": [1], "best_epoch": True,
                                                     "mode": "full", "cancelled": 1}))
    record = runs.read_record(folder)
    assert (record.accuracy, record.macro_f1, record.best_epoch, record.mode, record.cancelled) == \
        (None, None, None, "full", False)
    assert record.summary() == "run  (full, not tested)"
    for curve in ([[1, "x"]], [[1.0]], [0.5], {"a": 1}):  # the final pass's curve, damaged: drawn as none
        (folder / "metrics.json").write_text(json.dumps({"mode": "quick", "final_pass_losses": curve}))
        assert runs.read_record(folder).final_pass_losses == []
    (folder / "metrics.json").write_text("{")
    assert runs.read_record(folder).mode == "?"
    assert runs.read_record(tmp_path / "nothing").accuracy is None and runs.read_run(tmp_path / "nothing") is None


def test_list_runs_newest_first(tmp_path):
    import os

    first = fake_run(tmp_path / "models" / "a", accuracy=0.5)
    second = fake_run(tmp_path / "models" / "b", accuracy=0.9)
    os.utime(first / "config.json", (1, 1))
    assert [r.name for r in runs.list_runs(tmp_path)] == ["b", "a"]
    assert runs.list_runs(tmp_path)[0].summary() == "b  (?, right on 90.0% of its test clips)"
    assert second.is_dir()


def test_rename_run(tmp_path):
    folder = fake_run(tmp_path / "models" / "2026_quick", accuracy=0.5)
    renamed = runs.rename_run(folder, "  greetings v2 ")
    assert renamed == tmp_path / "models" / "greetings v2" and runs.read_run(renamed).accuracy == 0.5
    assert not folder.exists() and runs.rename_run(renamed, "greetings v2") == renamed


@pytest.mark.parametrize("name", ["", " ", ".hidden", "..", "a/b", "a\\b", "x:y", "tab\there"])
def test_rename_refuses_bad_names(tmp_path, name):
    folder = fake_run(tmp_path / "run")
    with pytest.raises(TrainingError, match="cannot be a folder name"):
        runs.rename_run(folder, name)
    assert folder.is_dir()


def test_rename_refuses_existing_target_and_foreign_folders(tmp_path):
    folder = fake_run(tmp_path / "run")
    fake_run(tmp_path / "other")
    with pytest.raises(TrainingError, match="already exists"):
        runs.rename_run(folder, "other")
    (tmp_path / "thesis").mkdir()
    with pytest.raises(TrainingError, match="not a model trained by IntentDesk"):
        runs.rename_run(tmp_path / "thesis", "renamed")
    assert (tmp_path / "thesis").is_dir() and folder.is_dir()


def test_delete_run_removes_only_a_trained_model(tmp_path):
    folder = fake_run(tmp_path / "models" / "run")
    runs.delete_run(folder)
    assert not folder.exists() and list((tmp_path / "models").iterdir()) == []
    users = tmp_path / "users-model"  # somebody's Hugging Face folder: config.json but not IntentDesk's
    users.mkdir()
    (users / "config.json").write_text("{}")
    (users / "metrics.json").write_text("{}")
    (users / "training_settings.json").write_text("{}")
    link = tmp_path / "link"
    link.symlink_to(fake_run(tmp_path / "real"))
    for victim in (users, link, tmp_path / "missing", tmp_path):
        with pytest.raises(TrainingError, match="not a model trained by IntentDesk"):
            runs.delete_run(victim)
    assert (users / "config.json").is_file() and (tmp_path / "real" / "config.json").is_file()
