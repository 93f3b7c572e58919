"""Model folders that cannot be used say what is wrong in one line, naming the file (never blaming the hub for a
local problem); a trained model can be the base for a run with other labels."""

from __future__ import annotations

import shutil

import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.models import hub


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
    (folder / "run_settings.json").write_text('{"eval_share": 0.')
    with pytest.raises(ModelError, match="run_settings.json: damaged.*--split all"):
        evaluate_model(folder, tone_dataset.root)
