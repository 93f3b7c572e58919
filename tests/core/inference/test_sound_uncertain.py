"""A sound-only model's own out-of-scope rule (issue #24): `uncertain_below` in config.json, calibrated at
training, flags answers whose top score is under it, in the CLI (and so the service, live mode and the GUI,
which share `Answers`); a words answer keeps the words part's verdict; a tampered value is refused."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.errors import ModelError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.results import Answers
from intentdesk.core.inference.words_part import ClipScore
from tests.helpers import RATE, run_cli, tone


def with_rule(saved_classifier, folder, value):
    shutil.copytree(saved_classifier, folder)
    config = json.loads((folder / "config.json").read_text())
    config["intentdesk"] = {**config.get("intentdesk", {}), "uncertain_below": value}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_the_rule_flags_a_low_top_score_of_a_sound_answer_only():
    answers = Answers(["a", "b", "c"], uncertain_below=0.5)
    assert answers.result("x", np.array([0.45, 0.35, 0.2]), 1.0).uncertain
    assert not answers.result("x", np.array([0.7, 0.2, 0.1]), 1.0).uncertain
    heard = ClipScore(np.array([0.45, 0.35, 0.2]), transcript="freeze my card", uncertain=False)
    assert not answers.result("x", heard, 1.0).uncertain  # the words were used: their verdict stands
    assert not Answers(["a", "b", "c"]).result("x", np.array([0.4, 0.3, 0.3]), 1.0).uncertain  # no rule: never


def test_classify_answers_uncertain_under_the_models_rule(saved_classifier, tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, tone(300, 0.7), RATE)
    strict = with_rule(saved_classifier, tmp_path / "strict", 0.999)
    lenient = with_rule(saved_classifier, tmp_path / "lenient", 0.0)
    for model, expected in ((strict, True), (lenient, False)):
        answer = json.loads(run_cli("classify", model, clip, "--json", "--precision", "fp32").stdout)[0]
        assert answer["uncertain"] is expected and answer["transcript"] is None


@pytest.mark.parametrize("value", [7, -0.1, "0.5", True, [0.5]])
def test_a_rule_that_is_not_a_share_is_refused_naming_the_entry(saved_classifier, tmp_path, value):
    folder = with_rule(saved_classifier, tmp_path / "tampered", value)
    with pytest.raises(ModelError, match=r"intentdesk\.uncertain_below"):
        Classifier(folder, device="cpu", precision="fp32")
