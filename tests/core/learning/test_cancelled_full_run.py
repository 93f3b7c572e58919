"""A full run cancelled in its second stage saves its stage-1 Quick model: the record says so (issue #25)."""

import json
import threading

from intentdesk.core.events import Stage, StepEvent, TrainStarted
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.trainer import train
from intentdesk.core.runs import STAGE_1, RunRecord, read_run


def full_settings(tiny_wav2vec2, **changes):
    values = {"epochs": 3, "warm_start_epochs": 2, "learning_rate": 1e-3, "head_learning_rate": 1e-2,
              "batch_size": 4, "bf16": False, **changes}
    return TrainSettings(base_model=str(tiny_wav2vec2), mode="full", **values)


def test_a_full_run_cancelled_in_stage_2_says_it_kept_the_quick_model_of_stage_1(tone_dataset, tiny_wav2vec2,
                                                                                   tmp_path):
    cancel, in_stage_2 = threading.Event(), []

    def on_event(event):
        if isinstance(event, TrainStarted) and event.kind is Stage.FINE_TUNING:
            in_stage_2.append(True)
        elif isinstance(event, StepEvent) and in_stage_2:
            cancel.set()  # during stage 2's first pass, after it scored its start (the stage-1 model)

    record = train(tone_dataset.root, tmp_path / "m", full_settings(tiny_wav2vec2), on_event, cancel)
    assert record.cancelled and record.mode == "full" and record.saved_stage == STAGE_1
    assert record.best_epoch <= 2, "the best epoch is one of stage 1's"
    assert json.loads((record.path / "metrics.json").read_text())["saved_stage"] == STAGE_1
    line = read_run(record.path).summary()
    assert "quick model from stage 1 of a cancelled full run" in line and "(full" not in line


def test_a_full_run_that_finished_in_stage_2_is_a_full_model(tone_dataset, tiny_wav2vec2, tmp_path):
    record = train(tone_dataset.root, tmp_path / "m", full_settings(tiny_wav2vec2, epochs=2, warm_start_epochs=0))
    assert record.saved_stage == "" and read_run(record.path).kind == "full"


def test_the_runs_line_says_which_runs_use_the_words():
    scores = {"accuracy": 1.0, "f1": {"macro": 1.0}}
    assert "with words" in RunRecord(mode="quick", fused=scores, **scores).summary()
    cut = RunRecord(mode="full", cancelled=True, saved_stage=STAGE_1, words_asked=True, **scores).summary()
    assert "quick model from stage 1 of a cancelled full run, no words part: stopped before it learned the words" \
        in cut
    assert "words" not in RunRecord(mode="quick", **scores).summary()
