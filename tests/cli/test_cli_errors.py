"""Every CLI failure is exit code 2 and exactly one `error:` line on stderr, never a traceback.

Runs `intentdesk.cli.main` in-process over a table of bad invocations of every command. None of
them trains or serves: each must be refused before any slow work starts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from intentdesk import cli
from intentdesk.core.data.store import DatasetStore
from tests.helpers import tone


@pytest.fixture(scope="module")
def place(tmp_path_factory, saved_classifier, tiny_wav2vec2) -> dict[str, Path]:
    """Named paths the table refers to as {name}: good and broken models, datasets, files."""
    root = tmp_path_factory.mktemp("cli-errors")
    paths = {"tmp": root, "model": saved_classifier, "base": tiny_wav2vec2}
    for name, n_labels in (("data", 2), ("oneclass", 1), ("empty", 0)):
        store = DatasetStore.create(root / name)
        for label in ["a", "b"][:n_labels]:
            for seed in range(3):
                store.add_array(tone(300 if label == "a" else 900, 0.4, seed=seed), 16000, label)
        paths[name] = store.root
    paths["badrow"] = root / "badrow"  # a dataset whose metadata.csv has a row pointing outside it
    shutil.copytree(paths["data"], paths["badrow"])
    with (paths["badrow"] / "metadata.csv").open("a") as metadata:
        metadata.write("../../outside.wav,a\n")
    paths["wav"] = root / "clip.wav"
    sf.write(paths["wav"], tone(300, 0.5), 16000)
    paths["textfile"] = root / "notes.txt"
    paths["textfile"].write_text("hello")
    paths["folder"] = root / "a-folder"
    paths["folder"].mkdir()
    paths["user-model"] = root / "user-model"  # somebody's Hugging Face folder, not trained by IntentDesk
    shutil.copytree(saved_classifier, paths["user-model"])
    for name, breakage in BROKEN_MODELS.items():
        folder = root / name
        shutil.copytree(saved_classifier, folder)
        breakage(folder)
        paths[name] = folder
    return paths


def _edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps({k: v for k, v in config.items() if v is not None}))


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


BROKEN_MODELS = {
    "no-weights": lambda f: (f / "model.safetensors").unlink(),
    "no-id2label": lambda f: _edit_config(f, id2label=None, label2id=None),
    "gap-id2label": lambda f: _edit_config(f, id2label={"0": "a", "2": "c", "3": "d"}),
    "text-id2label": lambda f: _edit_config(f, id2label={"x": "a", "y": "b", "z": "c"}),
    "no-preprocessor": lambda f: (f / "preprocessor_config.json").unlink(),
    "cut-weights": lambda f: _truncate(f / "model.safetensors", 0.6),
    "cut-weights-header": lambda f: _truncate(f / "model.safetensors", 0.001),
    "cut-config": lambda f: _truncate(f / "config.json", 0.5),
    "label-count-mismatch": lambda f: _edit_config(f, id2label={"0": "a", "1": "b"}),
    "label-not-text": lambda f: _edit_config(f, id2label={"0": "a", "1": None, "2": "c"}),
    "label-twice": lambda f: _edit_config(f, id2label={"0": "a", "1": "b", "2": "a"}),
    "id2label-list": lambda f: _edit_config(f, id2label=["a", "b", "c"]),
    "config-list": lambda f: (f / "config.json").write_text("[]"),
}

CASES = [
    # usage mistakes: argparse's own errors as one line
    ("no-command-args", ["train"], "required"),
    ("unknown-command", ["bogus"], "invalid choice"),
    ("unknown-option", ["classify", "{model}", "{wav}", "--bogus"], "unrecognized"),
    ("unknown-precision", ["classify", "{model}", "{wav}", "--precision", "fp64"], "fp64"),
    ("unknown-mode", ["train", "{data}", "--out", "{tmp}/o", "--mode", "turbo"], "turbo"),
    ("app-option-before-command", ["--dataset", "{data}", "train", "{data}", "--out", "{tmp}/o"], "after `train`"),
    # numbers
    *[(f"train{opt}={value}", ["train", "{data}", "--base", "{base}", "--out", "{tmp}/o", opt, value], opt)
      for opt, value in [("--epochs", "0"), ("--epochs", "-1"), ("--epochs", "2.5"), ("--max-seconds", "0"),
                         ("--max-seconds", "nan"), ("--eval-share", "1.5"), ("--eval-share", "0"),
                         ("--batch-size", "0"), ("--learning-rate", "-1"), ("--learning-rate", "nan"),
                         ("--learning-rate", "inf"), ("--seed", "-1")]],
    ("train-max-seconds-too-long", ["train", "{data}", "--base", "{base}", "--out", "{tmp}/o",
                                    "--max-seconds", "1000"], "between 0.5 and"),
    ("top-k-0", ["classify", "{model}", "{wav}", "--top-k", "0"], "--top-k"),
    ("top-k-negative", ["classify", "{model}", "{wav}", "--top-k", "-3"], "--top-k"),
    # missing paths, files for folders, folders for files
    ("train-missing-data", ["train", "{tmp}/nothing", "--base", "{base}", "--out", "{tmp}/o"], "nothing"),
    ("train-data-is-file", ["train", "{textfile}", "--base", "{base}", "--out", "{tmp}/o"], "notes.txt"),
    ("train-missing-base", ["train", "{data}", "--base", "{tmp}/nobase", "--out", "{tmp}/o"], "not found"),
    ("train-base-is-file", ["train", "{data}", "--base", "{textfile}", "--out", "{tmp}/o"], "is a file"),
    ("train-base-is-dataset", ["train", "{data}", "--base", "{data}", "--out", "{tmp}/o"], "dataset folder"),
    ("train-out-is-file", ["train", "{data}", "--base", "{base}", "--out", "{textfile}"], "is a file"),
    ("train-out-under-file", ["train", "{data}", "--base", "{base}", "--out", "{textfile}/m"], "is a file"),
    ("train-one-class", ["train", "{oneclass}", "--base", "{base}", "--out", "{tmp}/o"], "at least 2"),
    ("train-empty-dataset", ["train", "{empty}", "--base", "{base}", "--out", "{tmp}/o"], "at least 2"),
    ("train-bad-row", ["train", "{badrow}", "--base", "{base}", "--out", "{tmp}/o"], "metadata.csv, line"),
    ("evaluate-bad-row", ["evaluate", "{model}", "{badrow}"], "metadata.csv, line"),
    ("evaluate-missing-model", ["evaluate", "{tmp}/nomodel", "{data}"], "not found"),
    ("evaluate-model-is-file", ["evaluate", "{textfile}", "{data}"], "is a file"),
    ("evaluate-model-is-dataset", ["evaluate", "{data}", "{data}"], "dataset folder"),
    ("evaluate-missing-data", ["evaluate", "{model}", "{tmp}/nodata"], "nodata"),
    ("evaluate-data-is-file", ["evaluate", "{model}", "{textfile}"], "notes.txt"),
    ("evaluate-empty-dataset", ["evaluate", "{model}", "{empty}", "--precision", "fp32"], "no clips"),
    ("evaluate-unknown-labels", ["evaluate", "{model}", "{data}", "--split", "all", "--precision", "fp32"],
     "does not know"),
    ("classify-missing-model", ["classify", "{tmp}/nomodel", "{wav}"], "not found"),
    ("classify-model-is-file", ["classify", "{wav}", "{wav}"], "is a file"),
    ("classify-with-a-base-model", ["classify", "{base}", "{wav}", "--precision", "fp32"], "no trained classification"),
    ("classify-missing-file", ["classify", "{model}", "{tmp}/none.wav"], "none.wav"),
    ("classify-folder-as-file", ["classify", "{model}", "{folder}"], "is a folder"),
    ("classify-text-file", ["classify", "{model}", "{textfile}", "--precision", "fp32"], "notes.txt"),
    ("serve-missing-model", ["serve", "{tmp}/nomodel"], "not found"),
    ("serve-half-written-model", ["serve", "{no-weights}"], "no weights"),
    ("export-serve-missing-model", ["export-serve", "{tmp}/nomodel", "{tmp}/ray"], "not found"),
    ("export-serve-model-is-file", ["export-serve", "{textfile}", "{tmp}/ray"], "is a file"),
    ("import-missing-source", ["import", "{tmp}/nosrc", "{tmp}/newdata"], "nosrc"),
    ("screenshot-out-is-folder", ["screenshot", "{folder}"], ".png"),
    ("screenshot-missing-dataset", ["screenshot", "{tmp}/s.png", "--dataset", "{tmp}/nodata"], "not found"),
    ("screenshot-dataset-not-dataset", ["screenshot", "{tmp}/s.png", "--dataset", "{model}"], "metadata.csv"),
    ("screenshot-half-written-model", ["screenshot", "{tmp}/s.png", "--model", "{no-weights}"], "no weights"),
    ("screenshot-missing-fake-mic", ["screenshot", "{tmp}/s.png", "--fake-mic", "{tmp}/mic.wav"], "mic.wav"),
    ("app-missing-fake-mic", ["--fake-mic", "{tmp}/mic.wav"], "mic.wav"),
    ("app-missing-dataset", ["--dataset", "{tmp}/nodata"], "not found"),
    ("gui-half-written-model", ["gui", "--model", "{gap-id2label}"], "id2label"),
    # half-written or inconsistent model folders
    *[(f"classify-{name}", ["classify", f"{{{name}}}", "{wav}", "--precision", "fp32"], expected)
      for name, expected in [("no-weights", "no weights"), ("no-id2label", "no id2label (the intent names), and"),
                             ("gap-id2label", "no label for id 1"), ("text-id2label", "not 'x'"),
                             ("no-preprocessor", "preprocessor_config.json"), ("cut-weights", "truncated"),
                             ("cut-weights-header", "model.safetensors"), ("cut-config", "config.json"),
                             ("label-count-mismatch", "do not fit config.json"), ("label-not-text", "id 1 has None"),
                             ("label-twice", "'a' twice"), ("id2label-list", "must map the ids"),
                             ("config-list", "not a JSON object")]],
    ("evaluate-no-weights", ["evaluate", "{no-weights}", "{data}"], "no weights"),
    ("train-base-no-preprocessor", ["train", "{data}", "--base", "{no-preprocessor}", "--out", "{tmp}/o"],
     "preprocessor_config.json"),
    ("train-base-cut-weights", ["train", "{data}", "--base", "{cut-weights}", "--out", "{tmp}/o"], "truncated"),
    # --out that would destroy something
    ("train-out-is-dataset", ["train", "{data}", "--base", "{base}", "--out", "{data}"], "is the dataset folder"),
    ("train-out-inside-dataset", ["train", "{data}", "--base", "{base}", "--out", "{data}/clips/m"], "inside"),
    ("train-out-contains-dataset", ["train", "{data}", "--base", "{base}", "--out", "{tmp}"], "contains"),
    ("train-out-is-base", ["train", "{data}", "--base", "{base}", "--out", "{base}"], "is the base model"),
    ("train-out-inside-base", ["train", "{data}", "--base", "{base}", "--out", "{base}/sub"], "inside the base"),
    ("train-out-is-users-model", ["train", "{data}", "--base", "{base}", "--out", "{user-model}"],
     "not a model trained by IntentDesk"),
]


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("argv", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_invocation_is_one_line_and_exit_2(argv, expected, place, capsys, monkeypatch):
    monkeypatch.delenv("INTENTDESK_DEBUG", raising=False)
    code, _, err = run_main([a.format(**{k: str(v) for k, v in place.items()}) for a in argv], capsys)
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected in lines[0]


def test_refusals_leave_models_and_datasets_alone(place, capsys):
    """The --out refusals above never touched what they pointed at."""
    for name in ("data", "base", "user-model"):
        before = sorted(p.relative_to(place[name]) for p in place[name].rglob("*"))
        cli.main(["train", str(place["data"]), "--base", str(place["base"]), "--out", str(place[name])])
        assert sorted(p.relative_to(place[name]) for p in place[name].rglob("*")) == before
    assert not (place["data"] / "clips" / "m").exists() and not (place["base"] / "sub").exists()
    capsys.readouterr()


@pytest.mark.skipif(os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="needs POSIX permissions that apply to this user")
def test_unwritable_out_fails_before_training(place, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_main(["train", str(place["data"]), "--base", str(place["base"]),
                                 "--out", str(locked / "m")], capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2 and err.count("\n") == 1 and "cannot write there" in err
    assert "training" not in err  # refused before training started


def test_os_error_in_a_command_is_one_line(monkeypatch, capsys):
    def denied(_args):
        raise OSError(13, "Permission denied", "/data/models/run")

    monkeypatch.setattr(cli.models, "cmd_evaluate", denied)
    code, _, err = run_main(["evaluate", "m", "d"], capsys)
    assert (code, err) == (2, "error: /data/models/run: Permission denied\n")


def test_a_full_disk_in_a_command_is_the_one_disk_full_line(monkeypatch, capsys):
    def disk_full(_args):
        raise OSError(28, "No space left on device", "/data/models/run")

    monkeypatch.setattr(cli.models, "cmd_evaluate", disk_full)
    code, _, err = run_main(["evaluate", "m", "d"], capsys)
    assert code == 2 and err.startswith("error: the disk holding /data/models/run is full (") and err.count("\n") == 1


def test_unexpected_exception_is_one_line(monkeypatch, capsys):
    monkeypatch.delenv("INTENTDESK_DEBUG", raising=False)
    monkeypatch.setattr(cli.models, "cmd_evaluate", lambda _args: {}["missing"])
    code, _, err = run_main(["evaluate", "m", "d"], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: unexpected KeyError")


def test_help_mentions_the_app_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert all(option in text for option in ("--dataset", "--model", "--fake-mic"))


def test_app_options_at_top_level_open_the_app(monkeypatch, place):
    opened = {}
    monkeypatch.setattr("intentdesk.gui.app.run_app", lambda **kwargs: opened.update(kwargs) or 0)
    assert cli.main(["--fake-mic", str(place["wav"]), "--dataset", str(place["data"])]) == 0
    assert opened == {"dataset": str(place["data"]), "model": None, "fake_mic": str(place["wav"]), "carried": None}


def test_non_finite_scores_are_a_file_error_and_json_stays_valid(place, capsys, monkeypatch, tmp_path):
    """1e30 samples (if they ever get past the audio checks) give NaN scores: the file fails with a
    message, --json stays strict JSON; exit 2 when every file fails, 1 when some do."""
    from intentdesk.core.audio import io as audio

    model = tmp_path / "raw-input-model"  # no input normalisation: 1e30 reaches the network as it is
    shutil.copytree(place["model"], model)
    extractor = json.loads((model / "preprocessor_config.json").read_text())
    (model / "preprocessor_config.json").write_text(json.dumps({**extractor, "do_normalize": False}))
    loud = tmp_path / "loud.wav"
    sf.write(loud, np.full(8000, 1e30, np.float32), 16000, subtype="FLOAT")
    normal = audio.load_start  # audio's own checks refuse 1e30: get past them to test this layer alone
    monkeypatch.setattr(audio, "load_start", lambda path, *a, **k: (
        (tone(300, 0.5) * 1e30, 0.5) if Path(path).name == "loud.wav" else normal(path, *a, **k)))
    options = ["--json", "--precision", "fp32"]
    code, out, err = run_main(["classify", str(model), str(loud), *options], capsys)
    assert code == 2 and err.count("\n") == 1 and "no usable scores" in err
    [result] = json.loads(out, parse_constant=lambda token: pytest.fail(f"invalid JSON token {token}"))
    assert "ranking" not in result and "no usable scores" in result["error"]
    code, out, err = run_main(["classify", str(model), str(loud), str(place["wav"]), *options], capsys)
    results = json.loads(out, parse_constant=lambda token: pytest.fail(f"invalid JSON token {token}"))
    assert code == 1 and "error" in results[0] and len(results[1]["ranking"]) == 3
    assert err.startswith("skipped ") and "loud.wav" in err and "1 of 2 files could not be classified" in err


def test_top_k_larger_than_labels_gives_all(place, capsys):
    code, out, _ = run_main(["classify", str(place["model"]), str(place["wav"]), "--top-k", "50", "--json",
                             "--precision", "fp32"], capsys)
    assert code == 0 and len(json.loads(out)[0]["ranking"]) == 3


def test_train_flags_come_from_the_setting_specs(place, capsys, monkeypatch):
    """Every setting with a CLI flag has one, with the spec's help, bounds (one-line error, exit 2) and
    value type; the values given reach TrainSettings, the others keep their defaults."""
    from intentdesk.core.learning import trainer
    from intentdesk.core.learning.settings import SETTING_SPECS, TrainSettings
    from intentdesk.core.runs import RunRecord

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    flags = {name: "--" + name.replace("_", "-") for name, spec in SETTING_SPECS.items() if spec.cli}
    assert {"--epochs", "--learning-rate", "--batch-size", "--max-seconds", "--eval-share",
            "--seed"} <= set(flags.values())
    for name, flag in flags.items():
        assert flag in help_text and " ".join(SETTING_SPECS[name].help.split())[:40] in help_text, flag
        spec = SETTING_SPECS[name]
        if spec.maximum is not None:
            code, _, err = run_main(["train", str(place["data"]), "--out", "o", flag, str(spec.maximum * 2 + 1)],
                                   capsys)
            assert code == 2 and err.count("\n") == 1 and flag in err and "between" in err
    seen = {}
    monkeypatch.setattr(trainer, "train", lambda _data, _out, settings, *_a: seen.update(s=settings) or RunRecord())
    argv = ["train", str(place["data"]), "--out", "o", "--mode", "quick", "--quick-layers", "2",
            "--warmup-ratio", "0.2", "--no-bf16", "--device", "cpu"]
    assert cli.main(argv) == 1  # nothing saved (the fake train saved nothing)
    capsys.readouterr()
    expected = TrainSettings(mode="quick", quick_layers=2, warmup_ratio=0.2, bf16=False, device="cpu")
    assert seen["s"] == expected


def test_nothing_to_classify_names_what_each_path_is(place, capsys, tmp_path):
    """A pipe was called "file not found"; of several unusable paths only the first was mentioned."""
    pipe = tmp_path / "clip.wav"
    os.mkfifo(pipe)
    code, _, err = run_main(["classify", str(place["model"]), str(pipe)], capsys)
    assert code == 2 and "is not a regular file (a pipe or a device)" in err
    code, _, err = run_main(["classify", str(place["model"]), str(tmp_path / "gone.wav"), str(tmp_path)], capsys)
    assert code == 2 and "gone.wav: file not found (and 1 more that cannot be classified)" in err
