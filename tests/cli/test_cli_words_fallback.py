"""`intentdesk classify` with a words part that is refused or fails (issue 26): every --json answer has
"words_problem", each plain line is marked by sound only and the reason is a warning on stderr, once."""

from __future__ import annotations

import json
import shutil

import soundfile as sf

from intentdesk import cli
from tests.helpers import RATE, tone


def classify(capsys, *argv):
    code = cli.main(["classify", *map(str, argv), "--precision", "fp32"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def clip_files(folder):
    folder.mkdir()
    paths = [folder / f"c{n}.wav" for n in range(2)]
    for n, path in enumerate(paths):
        sf.write(path, tone(300 + 500 * n, 0.7, RATE, seed=n), RATE)
    return paths


def test_a_refused_words_part_is_said_in_every_answer(saved_words_classifier, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(saved_words_classifier, model)
    path = model / "words" / "words_config.json"
    config = json.loads(path.read_text())
    config["recogniser"]["num_beams"] = 1_000_000
    path.write_text(json.dumps(config))
    files = clip_files(tmp_path / "clips")
    code, out, err = classify(capsys, model, *files, "--json")
    answers = json.loads(out)
    assert code == 0 and len(answers) == 2 and all(a["ranking"] and a["transcript"] is None for a in answers)
    problem = answers[0]["words_problem"]
    assert all(a["words_problem"] == problem for a in answers)
    assert "'recogniser.num_beams' is 1000000" in problem and "words_config.json" in problem and "sound only" in problem
    assert err.count("warning:") == 1 and problem in err
    code, out, err = classify(capsys, model, *files)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 and all("by sound only" in line for line in lines)  # no "heard:" lines
    assert err.count("warning:") == 1 and problem in err


def test_a_words_part_failing_at_run_time_is_warned_once(saved_words_classifier, tmp_path, capsys, monkeypatch):
    from intentdesk.core.words.asr import Transcriber

    def broken(self, waves, progress=None):
        raise RuntimeError("the recogniser fell over")

    monkeypatch.setattr(Transcriber, "transcribe", broken)
    code, out, err = classify(capsys, saved_words_classifier, *clip_files(tmp_path / "clips"), "--json")
    answers = json.loads(out)
    assert code == 0 and all("the recogniser fell over" in a["words_problem"] for a in answers)
    assert err.count("warning:") == 1 and "words part failed" in err
