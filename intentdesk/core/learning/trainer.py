"""`train()`: one training run from dataset folder to saved model folder, and full mode's two stages.

The parts: `prepared` (split and decoded clips), `task` / `quick` (what is trained in full and
quick mode), `loop` (the epoch loop), `saving` (the folder). Progress goes out as events whose
`fraction` covers the whole run (`PHASES`); the last event is `TrainFinished`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.data.health import training_blockers
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError, TrainingError, first_line
from intentdesk.core.events import EventCallback, Outcome, Progress, Stage, TrainFinished, ignore
from intentdesk.core.files import stop_when_disk_full
from intentdesk.core.learning.eta import RunPlan, save_seconds
from intentdesk.core.learning.loop import fit, parameter_bytes, predict_task
from intentdesk.core.learning.metrics import classification_metrics, sound_notes
from intentdesk.core.learning.prepared import PreparedData, TrainingRun, prepare_data
from intentdesk.core.learning.quick import build_quick_task, check_quick_support
from intentdesk.core.learning.saving import model_fingerprint, save_model_folder
from intentdesk.core.learning.settings import MODE_DEFAULTS, TrainSettings, hearings_per_training_clip
from intentdesk.core.learning.task import FullTask, Task
from intentdesk.core.learning.words_only import train_words_only
from intentdesk.core.learning.words_training import load_words_models, train_words_part, words_labels
from intentdesk.core.models import backbone
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.runs import STAGE_1, RunRecord
from intentdesk.core.staging import check_output_dir

# Rough shares of a run's time, for one progress fraction over the whole run (phases that do not
# run are skipped). Training dominates; the backbone pass over every clip comes next.
LOADING = {Stage.LOADING_AUDIO: 3, Stage.LOADING_MODEL: 2}
ENDING = {Stage.EVALUATING: 2, Stage.SAVING: 3}
PHASES = {
    "quick": {**LOADING, Stage.CACHING_FEATURES: 25, Stage.TRAINING: 65, **ENDING},
    "full": {**LOADING, Stage.CACHING_FEATURES: 10, Stage.WARM_START: 15, Stage.FINE_TUNING: 65, **ENDING},
}
WORDS_PHASES = {Stage.TRANSCRIBING: 12, Stage.TRAINING_WORDS: 4}  # before saving, when training with words


def phases(settings: TrainSettings) -> dict[Stage, float]:
    """The run's phases in order, with their weights."""
    weights = dict(PHASES[settings.mode])
    if not settings.words:
        return weights
    saving = weights.pop(Stage.SAVING)
    return {**weights, **WORDS_PHASES, Stage.SAVING: saving}


def train(data_dir: Path | str, output_dir: Path | str, settings: TrainSettings | None = None,
          on_event: EventCallback = ignore, cancel: threading.Event | None = None) -> RunRecord:
    """Fine-tune `settings.base_model` on the dataset at `data_dir`, save the best model to `output_dir`.

    Cancelling (setting `cancel`) stops within one training step; the best model evaluated so
    far is still saved (the record's `path` is None when there was none yet). Raises
    `TrainingError`/`ModelError` for unusable data or models: bad input fails before any event;
    a failure after the run started ends with a `TrainFinished` saying failed.
    """
    settings = (settings or TrainSettings()).resolved()
    progress = Progress(on_event, phases(settings), untimed=WORDS_PHASES)
    try:
        with stop_when_disk_full(Path(output_dir).expanduser().absolute().parent,
                                 "the training stopped and no model was saved"):
            return _train(Path(data_dir), Path(output_dir), settings, progress, cancel or threading.Event())
    except Exception as error:
        if progress.sent_any:
            progress.emit(TrainFinished(Outcome.FAILED, None, time.monotonic() - progress.started, first_line(error)))
        raise


def _train(data_dir: Path, output_dir: Path, settings: TrainSettings, progress: Progress,
           cancel: threading.Event) -> RunRecord:
    torch.manual_seed(settings.seed)
    output_dir = check_output_dir(output_dir, data_dir, settings.base_model)  # fail before training
    store = DatasetStore.open(data_dir)
    problems = training_blockers(store, settings.words)  # checked before any progress output: bad input fails first
    if problems:
        raise TrainingError("cannot train: " + "; ".join(problems))
    words_models = None
    if settings.words:  # fail early; a sound-only run never reads phrases.csv
        words_models = load_words_models(settings, words_labels(store.labels(), store.texts.phrases()))
    if not store.clips:
        return train_words_only(store, output_dir, settings, words_models, progress)
    run = _start(store, settings, progress, cancel)
    task, state = _train_quick(run) if settings.mode == "quick" else _train_full(run)
    record = run.record
    if state is None:
        progress.emit(TrainFinished(Outcome.CANCELLED, None, time.monotonic() - progress.started))
        return record
    task.apply(state)
    eval_sound = _score(run, task)
    words = None
    if words_models is not None and not cancel.is_set():
        words = train_words_part(run, store, words_models, eval_sound)
        record.train_seconds = time.monotonic() - progress.started
    learned = task.learn_from_all(run, state) if settings.final_pass_on_all_clips and not cancel.is_set() else None
    if learned is not None:
        record.learned_from_all = learned
        record.cancelled = record.cancelled or not learned  # the eval split's choice was kept
    progress.stage(Stage.SAVING, "Saving the model")
    record.path = save_model_folder(run.model.to("cpu"), run.builder.feature_extractor, output_dir, record, settings,
                                    words, sound_notes(eval_sound))
    outcome = Outcome.CANCELLED if record.cancelled else Outcome.FINISHED
    progress.emit(TrainFinished(outcome, record, time.monotonic() - progress.started))
    return record


def _start(store: DatasetStore, settings: TrainSettings, progress: Progress, cancel: threading.Event) -> TrainingRun:
    """Decode the clips and load the base model with a head for the dataset's labels."""
    feature_extractor = backbone.load_feature_extractor(settings.base_model)
    data = prepare_data(store, settings, int(feature_extractor.sampling_rate), progress)
    progress.stage(Stage.LOADING_MODEL, "Loading the base model")
    model = backbone.load_classifier_model(settings.base_model, data.labels)
    backbone.check_inputs(Path(settings.base_model), model, feature_extractor)  # before the first forward pass
    if backbone.is_whisper(model):
        backbone.fit_whisper_window(model, feature_extractor, whisper_window(data, settings.max_seconds,
                                                                             int(feature_extractor.sampling_rate)))
    backbone.freeze_front_end(model)
    device = backbone.pick_device(settings.device)
    model.to(device)
    record = RunRecord(mode=settings.mode, base_model=settings.base_model, train_clips=len(data.train_y),
                       eval_clips=len(data.eval_y), words_asked=settings.words)
    progress.after = run_plan(settings, len(data.train_y), len(data.eval_y), model, progress).after
    return TrainingRun(model, InputBuilder(feature_extractor), data, settings, device, progress, cancel, record)


def run_plan(settings: TrainSettings, train_clips: int, eval_clips: int, model, progress: Progress) -> RunPlan:
    """What this run does after each stage, for the one estimate of the time left (`RunPlan`)."""
    again = (train_clips + eval_clips) / max(1, train_clips) if settings.final_pass_on_all_clips else 0.0
    return RunPlan(settings.mode, train_clips, eval_clips,
                   hearings_per_training_clip(settings.speed_perturbation, settings.quick_layers),
                   settings.epochs, settings.warm_start_epochs if settings.mode == "full" else 0,
                   settings.quick_layers == 0, again, save_seconds(parameter_bytes(model)), progress.item_seconds)


def whisper_window(data: PreparedData, max_seconds: float, rate: int) -> float:
    """Whisper's input window for this dataset: its longest clip in whole seconds (at least 2 s,
    at most `max_seconds`).

    Whisper pads every clip to one fixed window and its cost grows with the window, not the
    clip: 1 s digits padded to 8 s cost 8x what they need. The window is saved with the model, so
    the app and `pipeline("audio-classification")` both use it; a longer clip is cut to it when
    classified (and the result says so). 2 s at least leaves room for a slower speaker.
    """
    longest = max((len(w) for w in [*data.train_waves, *data.eval_waves]), default=0) / rate
    return float(min(max_seconds, max(2, math.ceil(longest))))


def _score(run: TrainingRun, task: Task) -> np.ndarray:
    """The saved weights' full scores on the eval split, into the record; returns the eval clips'
    probabilities (what the words part is fused with)."""
    run.progress.stage(Stage.EVALUATING, "Testing the best model on the clips kept aside")
    logits = predict_task(run, task, stoppable=False)
    scores = classification_metrics(run.data.eval_y.numpy(), logits.argmax(-1).numpy(), run.data.labels)
    for name, value in scores.items():
        setattr(run.record, name, value)
    run.record.eval_loss = float(torch.nn.functional.cross_entropy(logits, run.data.eval_y))
    run.record.train_seconds = time.monotonic() - run.progress.started
    return torch.softmax(logits.float(), dim=-1).numpy()


def _quick_task(run: TrainingRun) -> Task:
    fingerprint = model_fingerprint(run.settings.base_model, run.settings, run.builder.fixed_window)
    return build_quick_task(run, fingerprint)


def who_learns(settings: TrainSettings) -> str:
    """Quick mode (and full mode's first stage) in the progress line's words: which part of the model
    learns, from what the base model heard in each clip (its cached features)."""
    if settings.quick_layers == 0:
        return "only the model's last layer learns, from what the base model heard"
    top = "top layer" if settings.quick_layers == 1 else f"top {settings.quick_layers} layers"
    return f"the model's last layer and its {top} learn, from what the layers below heard"


def _train_quick(run: TrainingRun) -> tuple[Task, dict | None]:
    task = _quick_task(run)
    run.progress.stage(Stage.TRAINING, f"Learning your labels ({who_learns(run.settings)})")
    return task, fit(run, task, Stage.TRAINING)


def _train_full(run: TrainingRun) -> tuple[Task, dict | None]:
    """Full mode = warm start + fine-tuning ("LP-FT").

    Fine-tuning a pretrained backbone under a freshly initialised head lets the head's early,
    random gradients distort the pretrained features, which hurts most on voices the training
    set does not have. So stage 1 trains the top layer and head on cached features (quick mode,
    cheap), and stage 2 fine-tunes the whole backbone from there with a small learning rate.
    Stage 2 starts by scoring the stage-1 model, so the saved model is never worse than it.
    """
    if not _can_warm_start(run):
        run.progress.stage(Stage.FINE_TUNING, "Adapting the whole model to your clips")
        task = FullTask(run)
        return task, fit(run, task, Stage.FINE_TUNING)
    warm = replace(run, settings=replace(run.settings, mode="quick", epochs=run.settings.warm_start_epochs,
                                         learning_rate=MODE_DEFAULTS["quick"]["learning_rate"],
                                         batch_size=MODE_DEFAULTS["quick"]["batch_size"]))
    quick = _quick_task(warm)
    run.progress.stage(Stage.WARM_START, f"Stage 1 of 2: learning your labels ({who_learns(run.settings)})")
    warm_state = fit(warm, quick, Stage.WARM_START)
    warm_epochs = len(run.record.history)
    if warm_state is None or run.record.cancelled:
        _say_if_stage_1_kept(run.record, warm_epochs)
        return quick, warm_state
    quick.apply(warm_state)
    for param in run.model.parameters():
        param.requires_grad_(True)
    backbone.freeze_front_end(run.model)
    run.progress.stage(Stage.FINE_TUNING, "Stage 2 of 2: adapting the whole model to your clips")
    task = FullTask(run)
    state = fit(run, task, Stage.FINE_TUNING)
    _say_if_stage_1_kept(run.record, warm_epochs)
    if state is None:  # cancelled while stage 2 scored its start: the warm start is the best there is
        return quick, warm_state
    return task, state


def _say_if_stage_1_kept(record: RunRecord, warm_epochs: int) -> None:
    """The record says so when the best epoch, the one saved, is one of stage 1's: the model is then the
    Quick warm start (a full run cancelled in stage 2 listed as "full" held a stage-1 Quick model)."""
    if record.best_epoch is not None and record.best_epoch <= warm_epochs:
        record.saved_stage = STAGE_1


def _can_warm_start(run: TrainingRun) -> bool:
    """Full mode warm-starts when asked to and the backbone supports quick mode."""
    try:
        check_quick_support(run.model, run.settings.quick_layers)
    except IntentDeskError:
        return False
    return run.settings.warm_start_epochs > 0
