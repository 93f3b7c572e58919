"""Fine-tuning: settings, data preparation, the epoch loop, best-checkpoint selection, saving.

Two modes share everything here and differ only in *what* is trained (a `Task`):
- full: the whole backbone (convolutional front end frozen) on waveforms, see `FullTask`;
- quick: the backbone frozen up to its last layer(s), whose inputs are cached on disk, see
  `intentdesk.core.learning.quick`. Both save the same kind of Hugging Face folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.data.health import training_blockers
from intentdesk.core.data.split import split_clips
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError, TrainingError
from intentdesk.core.events import (
    EpochEvent,
    EventCallback,
    StageEvent,
    StepEvent,
    TrainFinished,
    TrainStarted,
    ignore,
)
from intentdesk.core.learning.metrics import classification_metrics
from intentdesk.core.learning.settings import MODE_DEFAULTS, TrainSettings
from intentdesk.core.models import backbone
from intentdesk.core.models.inputs import InputBuilder, length_buckets, load_waves
from intentdesk.core.runs import check_output_dir, staged_folder


@dataclass
class TrainResult:
    output_dir: Path | None
    cancelled: bool
    best_epoch: int | None
    metrics: dict
    history: list[dict]
    seconds: float


@dataclass
class PreparedData:
    """Decoded clips of both sides of the split, with labels as ids into `labels`."""

    labels: list[str]
    train_waves: list[np.ndarray]
    train_y: torch.Tensor
    eval_waves: list[np.ndarray]
    eval_y: torch.Tensor
    train_names: list[str] = field(default_factory=list)
    eval_names: list[str] = field(default_factory=list)


def prepare_data(store: DatasetStore, settings: TrainSettings, rate: int,
                 on_event: EventCallback = ignore) -> PreparedData:
    labels = store.labels()
    train, evaluation = split_clips(store.clips, settings.eval_share, settings.seed)
    on_event(StageEvent("Loading audio", 0.0))
    names = [c.file_name for c in train + evaluation]
    waves, errors = load_waves([store.path_of(c) for c in train + evaluation], rate, settings.max_seconds, names)
    if errors:
        raise TrainingError(f"cannot train: {len(errors)} clip(s) cannot be read: " + "; ".join(errors[:5]))
    index = {label: i for i, label in enumerate(labels)}
    n = len(train)
    return PreparedData(
        labels=labels,
        train_waves=waves[:n], train_y=torch.tensor([index[c.label] for c in train]),
        eval_waves=waves[n:], eval_y=torch.tensor([index[c.label] for c in evaluation]),
        train_names=names[:n], eval_names=names[n:],
    )


class Task(Protocol):
    """What the epoch loop trains: a module, its parameter groups and a way to get logits."""

    module: torch.nn.Module

    def param_groups(self, settings: TrainSettings) -> list[dict]: ...
    def train_batches(self, rng: np.random.Generator, batch_size: int) -> list[list[int]]: ...
    def eval_batches(self, batch_size: int) -> list[list[int]]: ...
    def logits(self, indices: list[int], training: bool) -> torch.Tensor: ...


class FullTask:
    """Fine-tune the whole model on waveforms, front end frozen, length-bucketed batches."""

    def __init__(self, model, builder: InputBuilder, data: PreparedData, device: torch.device,
                 speed_factors: tuple[float, ...] = ()) -> None:
        self.module = model
        self.builder = builder
        self.data = data
        self.device = device
        self.speed_factors = (1.0, *[f for f in speed_factors if f != 1.0])
        self._waves = {True: data.train_waves, False: data.eval_waves}

    def param_groups(self, settings: TrainSettings) -> list[dict]:
        return split_head_params(self.module, settings)

    def train_batches(self, rng, batch_size):
        """Each epoch, every training clip plays at a randomly chosen speed (speed perturbation)."""
        if len(self.speed_factors) > 1:
            choice = rng.integers(0, len(self.speed_factors), size=len(self.data.train_waves))
            self._waves[True] = [w if self.speed_factors[c] == 1.0 else
                                 audio.change_speed(w, self.builder.rate, self.speed_factors[c])
                                 for w, c in zip(self.data.train_waves, choice)]
        return length_buckets([len(w) for w in self._waves[True]], batch_size, rng)

    def eval_batches(self, batch_size):
        return length_buckets([len(w) for w in self.data.eval_waves], batch_size)

    def logits(self, indices, training):
        waves = self._waves[training]
        with torch.autocast(self.device.type, enabled=False):  # feature extractors need float32
            inputs = self.builder.build([waves[i] for i in indices])
        return self.module(**{k: v.to(self.device) for k, v in inputs.items()}).logits


HEAD_PREFIXES = ("projector", "classifier", "layer_weights")


def split_head_params(module: torch.nn.Module, settings: TrainSettings) -> list[dict]:
    """Two groups: the fresh head learns fast, the pretrained body slowly; no decay on norms/biases."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, param in module.named_parameters():
        if not param.requires_grad:
            continue
        is_head = name.split(".")[0] in HEAD_PREFIXES
        decays = param.ndim >= 2
        groups.setdefault((is_head, decays), []).append(param)
    return [
        {"params": params,
         "lr": settings.head_learning_rate if is_head else settings.learning_rate,
         "weight_decay": settings.weight_decay if decays else 0.0}
        for (is_head, decays), params in groups.items()
    ]


def _warmup_linear(total_steps: int, warmup_ratio: float):
    warmup = max(1, int(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return factor


@dataclass
class FitResult:
    best_state: dict | None
    best_epoch: int | None
    history: list[dict]
    step_losses: list[float]
    cancelled: bool


def fit(task: Task, data: PreparedData, settings: TrainSettings, device: torch.device,
        on_event: EventCallback, cancel: threading.Event, first_epoch: int = 1,
        starting_epoch: int | None = None, started: float | None = None) -> FitResult:
    """The epoch loop: AdamW + warmup/linear decay, per-epoch evaluation, best state kept in memory.

    `first_epoch` numbers epochs on from an earlier stage. With `starting_epoch` (the earlier
    stage's best epoch) the starting weights are scored first, so this stage only replaces them
    when it really does better. `started` (a `time.monotonic()` value) lets elapsed times run on
    across stages.
    """
    rng = np.random.default_rng(settings.seed)
    steps_per_epoch = len(task.train_batches(np.random.default_rng(settings.seed), settings.batch_size))
    total = steps_per_epoch * settings.epochs
    optimizer = torch.optim.AdamW(task.param_groups(settings))
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    schedule = _warmup_linear(total, settings.warmup_ratio)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    on_event(TrainStarted(total, settings.epochs, len(data.train_y), len(data.eval_y), data.labels,
                          str(device), settings.mode))
    best_state, best_key, best_epoch = None, None, None
    if starting_epoch is not None:
        scores = evaluate_task(task, data, settings, device, cancel)
        if scores is not None:
            best_key = (scores["accuracy"], scores["macro_f1"], -scores["eval_loss"])
            best_epoch = starting_epoch
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in task.module.state_dict().items()}
    history: list[dict] = []
    step_losses: list[float] = []
    stage_start = time.monotonic()
    step, started = 0, started or stage_start
    for epoch in range(first_epoch, first_epoch + settings.epochs):
        task.module.train()
        epoch_losses = []
        for indices in task.train_batches(rng, settings.batch_size):
            if cancel.is_set():
                return FitResult(best_state, best_epoch, history, step_losses, True)
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * schedule(step)
            with backbone.autocast_for(device, settings.bf16):
                logits = task.logits(indices, True)
            loss = loss_fn(logits.float(), data.train_y[indices].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(task.module.parameters(), 1.0)
            optimizer.step()
            step += 1
            value = float(loss.detach())
            epoch_losses.append(value)
            step_losses.append(value)
            now = time.monotonic()
            eta = (now - stage_start) / step * (total - step)
            on_event(StepEvent(step, total, first_epoch - 1 + step / steps_per_epoch, value,
                               optimizer.param_groups[-1]["lr"], now - started, eta))
        scores = evaluate_task(task, data, settings, device, cancel)
        if scores is None:
            return FitResult(best_state, best_epoch, history, step_losses, True)
        key = (scores["accuracy"], scores["macro_f1"], -scores["eval_loss"])
        is_best = best_key is None or key > best_key
        if is_best:
            best_key, best_epoch = key, epoch
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in task.module.state_dict().items()}
        train_loss = float(np.mean(epoch_losses)) if epoch_losses else math.nan
        history.append({"epoch": epoch, "train_loss": train_loss, **scores})
        on_event(EpochEvent(epoch, scores["eval_loss"], scores["accuracy"], scores["macro_f1"], train_loss,
                            is_best, time.monotonic() - started))
    return FitResult(best_state, best_epoch, history, step_losses, False)


def predict_task(task: Task, data: PreparedData, settings: TrainSettings, device: torch.device,
                 cancel: threading.Event | None = None) -> torch.Tensor | None:
    """Eval-split logits (float32, CPU), or None when cancelled."""
    task.module.eval()
    outputs = {}
    with torch.inference_mode():
        for indices in task.eval_batches(max(8, settings.batch_size)):
            if cancel is not None and cancel.is_set():
                return None
            with backbone.autocast_for(device, settings.bf16):
                logits = task.logits(indices, False)
            for i, row in zip(indices, logits.float().cpu()):
                outputs[i] = row
    return torch.stack([outputs[i] for i in range(len(data.eval_y))])


def evaluate_task(task, data, settings, device, cancel) -> dict | None:
    logits = predict_task(task, data, settings, device, cancel)
    if logits is None:
        return None
    predictions = logits.argmax(-1).numpy()
    metrics = classification_metrics(data.eval_y.numpy(), predictions, data.labels)
    return {"eval_loss": float(torch.nn.functional.cross_entropy(logits, data.eval_y)),
            "accuracy": metrics["accuracy"], "macro_f1": metrics["f1"]["macro"]}


def train(data_dir: Path | str, output_dir: Path | str, settings: TrainSettings | None = None,
          on_event: EventCallback = ignore, cancel: threading.Event | None = None) -> TrainResult:
    """Fine-tune `settings.base_model` on the dataset at `data_dir`, save the best model to `output_dir`.

    Cancelling (setting `cancel`) stops within one training step; the best model evaluated so
    far is still saved. Raises `TrainingError`/`ModelError` for unusable data or models.
    """
    started = time.monotonic()
    settings = (settings or TrainSettings()).resolved()
    cancel = cancel or threading.Event()
    torch.manual_seed(settings.seed)
    output_dir = check_output_dir(Path(output_dir), Path(data_dir), settings.base_model)  # fail before training
    store = DatasetStore.open(Path(data_dir))
    device = backbone.pick_device(settings.device)
    problems = training_blockers(store)  # checked before any progress output: bad input fails first
    if problems:
        raise TrainingError("cannot train: " + "; ".join(problems))
    feature_extractor = backbone.load_feature_extractor(settings.base_model)
    data = prepare_data(store, settings, int(feature_extractor.sampling_rate), on_event)
    on_event(StageEvent("Loading base model", None))
    model = backbone.load_classifier_model(settings.base_model, data.labels)
    if backbone.is_whisper(model):
        backbone.fit_whisper_window(model, feature_extractor, settings.max_seconds)
    backbone.freeze_front_end(model)
    model.to(device)
    builder = InputBuilder(feature_extractor)
    if settings.mode == "quick":
        task: Task = _quick_task(model, builder, data, settings, device, on_event, cancel)
        result = fit(task, data, settings, device, on_event, cancel)
    else:
        task, result = _two_stage_full(model, builder, data, settings, device, on_event, cancel)
    if result.best_state is None:
        seconds = time.monotonic() - started
        on_event(TrainFinished(None, True, None, {}, seconds))
        return TrainResult(None, True, None, {}, result.history, seconds)
    task.module.load_state_dict(result.best_state)
    on_event(StageEvent("Saving model", None))
    logits = predict_task(task, data, settings, device)
    metrics = classification_metrics(data.eval_y.numpy(), logits.argmax(-1).numpy(), data.labels)
    metrics.update({
        "eval_loss": float(torch.nn.functional.cross_entropy(logits, data.eval_y)),
        "best_epoch": result.best_epoch, "history": result.history, "step_losses": result.step_losses,
        "cancelled": result.cancelled, "train_clips": len(data.train_y), "eval_clips": len(data.eval_y),
        "train_seconds": time.monotonic() - started, "base_model": settings.base_model, "mode": settings.mode,
    })
    out = save_model_folder(model.to("cpu"), feature_extractor, Path(output_dir), metrics, settings)
    seconds = time.monotonic() - started
    on_event(TrainFinished(str(out), result.cancelled, result.best_epoch, metrics, seconds))
    return TrainResult(out, result.cancelled, result.best_epoch, metrics, result.history, seconds)


def _quick_task(model, builder, data, settings, device, on_event, cancel) -> Task:
    from intentdesk.core.learning.quick import QuickTask

    return QuickTask.build(model, builder, data, settings, device, on_event, cancel,
                           fingerprint=model_fingerprint(settings.base_model, settings))


def _two_stage_full(model, builder, data, settings, device, on_event, cancel) -> tuple[Task, FitResult]:
    """Full mode = warm start + fine-tuning ("LP-FT").

    Fine-tuning a pretrained backbone under a freshly initialised head lets the head's early,
    random gradients distort the pretrained features, which hurts most on voices the training
    set does not have. So stage 1 trains the top layer and head on cached features (quick mode,
    cheap), and stage 2 fine-tunes the whole backbone from there with a small learning rate.
    Stage 2 starts by scoring the stage-1 model, so the saved model is never worse than it.
    """
    from intentdesk.core.learning.quick import check_quick_support

    first_epoch, history, step_losses, starting_epoch = 1, [], [], None
    started = time.monotonic()
    try:
        check_quick_support(model)
        warm = settings.warm_start_epochs > 0
    except IntentDeskError:
        warm = False
    if warm:
        on_event(StageEvent("Stage 1 of 2: top layer on cached features", None))
        quick_settings = dataclass_replace(settings, mode="quick", epochs=settings.warm_start_epochs,
                                           learning_rate=MODE_DEFAULTS["quick"]["learning_rate"],
                                           batch_size=MODE_DEFAULTS["quick"]["batch_size"])
        quick = _quick_task(model, builder, data, quick_settings, device, on_event, cancel)
        stage1 = fit(quick, data, quick_settings, device, on_event, cancel, started=started)
        if stage1.best_state is None or stage1.cancelled:
            return quick, stage1
        quick.module.load_state_dict(stage1.best_state)
        first_epoch, history, step_losses = len(stage1.history) + 1, stage1.history, stage1.step_losses
        starting_epoch = stage1.best_epoch
        for param in model.parameters():
            param.requires_grad_(True)
        backbone.freeze_front_end(model)
        on_event(StageEvent("Stage 2 of 2: fine-tuning the whole backbone", None))
    task = FullTask(model, builder, data, device, settings.speed_perturbation)
    result = fit(task, data, settings, device, on_event, cancel, first_epoch, starting_epoch, started)
    result.history = history + result.history
    result.step_losses = step_losses + result.step_losses
    return task, result


def save_model_folder(model, feature_extractor, output_dir: Path, metrics: dict, settings: TrainSettings) -> Path:
    """Write the folder next to its final place, then swap it in: never a half-saved model, and
    only ever in place of a model IntentDesk trained (checked again: the folder may have changed
    during training)."""
    output_dir = check_output_dir(output_dir)
    with staged_folder(output_dir) as staging:
        model.config.intentdesk = {"base_model": settings.base_model, "mode": settings.mode}
        model.save_pretrained(staging)
        feature_extractor.save_pretrained(staging)
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=1))
        (staging / "training_settings.json").write_text(json.dumps(asdict(settings), indent=1))
    return output_dir


def model_fingerprint(base: str, settings: TrainSettings) -> str:
    """Identifies the frozen part of a backbone, for the feature cache: same key, same features."""
    path = Path(base).expanduser()
    bf16 = backbone.uses_bf16(backbone.pick_device(settings.device), settings.bf16)  # what runs, not what was asked
    parts = [base, str(settings.max_seconds), str(settings.quick_layers), str(bf16)]
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file())
        parts += [f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}" for f in files]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]

