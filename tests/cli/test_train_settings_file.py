"""`intentdesk train --settings FILE`: the same settings as the flags, from a JSON file; a model's
run_settings.json given back repeats its run; flags given too win; bad files are one clear error."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from intentdesk import cli
from intentdesk.cli.train import settings_of
from intentdesk.core.errors import TrainingError
from intentdesk.core.learning.settings import TrainSettings, settings_from_file


def parsed(*argv: str):
    return cli.build_parser().parse_args(["train", "DATA", "--out", "OUT", *argv])


def test_the_file_sets_what_the_flags_set_and_flags_given_too_win(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"mode": "full", "base_model": "my/base", "epochs": 12, "learning-rate": 3e-5,
                                "--batch-size": 4, "words": False, "speed_perturbation": [0.8, 1, 1.2]}))
    settings = settings_of(parsed("--settings", str(path), "--epochs", "3", "--base", "other/base"))
    assert (settings.mode, settings.base_model, settings.epochs) == ("full", "other/base", 3)
    assert (settings.learning_rate, settings.batch_size, settings.words) == (3e-5, 4, False)
    assert settings.speed_perturbation == (0.8, 1.0, 1.2)
    assert settings_of(parsed("--settings", str(path), "--mode", "quick")).mode == "quick"
    assert settings_of(parsed()) == TrainSettings()  # no file, no flags: the defaults


def test_a_models_run_settings_repeat_its_run(tone_dataset, tiny_wav2vec2, tmp_path):
    code = cli.main(["train", str(tone_dataset.root), "--base", str(tiny_wav2vec2), "--out", str(tmp_path / "first"),
                     "--epochs", "2", "--batch-size", "4", "--seed", "7", "--no-words"])
    assert code == 0
    saved = tmp_path / "first" / "run_settings.json"
    values = json.loads(saved.read_text())
    again = settings_of(parsed("--settings", str(saved)))
    assert asdict(again) == {**values, "speed_perturbation": tuple(values["speed_perturbation"])}
    code = cli.main(["train", str(tone_dataset.root), "--settings", str(saved), "--out", str(tmp_path / "again")])
    assert code == 0
    assert json.loads((tmp_path / "again" / "run_settings.json").read_text()) == json.loads(saved.read_text())


@pytest.mark.parametrize(("content", "words"), [
    ({"epoch": 3}, ["unknown setting 'epoch'", "did you mean 'epochs'?"]),
    ({"colour": "red"}, ["unknown setting 'colour'", "the settings are base_model, mode, epochs"]),
    ({"epochs": "ten"}, ["'epochs' must be a whole number", '"ten"']),
    ({"epochs": 2.5}, ["'epochs' must be a whole number"]),
    ({"epochs": True}, ["'epochs' must be a whole number"]),
    ({"words": "yes"}, ["'words' must be true or false"]),
    ({"epochs": 0}, ["'epochs':", "between 1 and 500 (got 0)"]),
    ({"mode": "turbo"}, ["'mode':", "'turbo' is not one of full, quick"]),
    ({"speed_perturbation": ["fast"]}, ["'speed_perturbation' must be a list of numbers"]),
    ({"base_model": None}, ["'base_model' must be a text"]),
    ([1, 2], ["not a JSON object of settings (it holds a list)"]),
    ("{not json", ["not valid JSON"]),
])
def test_a_bad_settings_file_is_one_error_naming_the_file_and_nothing_is_trained(tmp_path, capsys, content, words):
    path = tmp_path / "settings.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(TrainingError) as error:
        settings_from_file(path)
    assert str(error.value).startswith(f"{path}: ") and all(word in str(error.value) for word in words)
    code = cli.main(["train", str(tmp_path), "--settings", str(path), "--out", str(tmp_path / "model")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {path}: ")
    assert not (tmp_path / "model").exists()


def test_a_missing_settings_file_says_so(tmp_path, capsys):
    code = cli.main(["train", str(tmp_path), "--settings", str(tmp_path / "nope.json"), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.json" in err and "cannot be read" in err
