"""The epoch loop: AdamW with warmup and linear decay, evaluation after every epoch, best weights kept."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from intentdesk.core.events import EpochEvent, Stage, StepEvent, TrainStarted
from intentdesk.core.learning.eta import TrainingEta, save_seconds
from intentdesk.core.learning.metrics import classification_metrics
from intentdesk.core.learning.prepared import TrainingRun
from intentdesk.core.learning.task import Task
from intentdesk.core.models import backbone


def fit(run: TrainingRun, task: Task, kind: Stage) -> dict | None:
    """Train `task` for `run.settings.epochs` epochs; returns the best weights (on the CPU), or None
    when cancelled before anything beat what was there.

    Epochs number on from `run.record.history`. When the record already has a best epoch (full
    mode's warm start) the starting weights are scored first, so this stage only replaces them
    when it really does better. The record gets each epoch's scores, every step's loss, the best
    epoch, and `cancelled`.
    """
    stepper = _Stepper(run, task, kind)
    data = run.data
    run.progress.emit(TrainStarted(stepper.total, run.settings.epochs, len(data.train_y), len(data.eval_y),
                                   data.labels, str(run.device), run.settings.mode, kind))
    best = _Best(run, task)
    if run.record.best_epoch is not None:
        best.consider(stepper.evaluate(counts_as_epoch=False), run.record.best_epoch)
    first = len(run.record.history) + 1
    rng = np.random.default_rng(run.settings.seed)
    for epoch in range(first, first + run.settings.epochs):
        losses = stepper.run_epoch(rng, first)
        scores = stepper.evaluate() if losses is not None else None
        if scores is None:
            run.record.cancelled = True
            return best.state
        is_best = best.consider(scores, epoch)
        train_loss = float(np.mean(losses)) if losses else math.nan
        run.record.history.append({"epoch": epoch, "train_loss": train_loss, **scores})
        run.progress.emit(EpochEvent(epoch, scores["eval_loss"], scores["accuracy"], scores["macro_f1"], train_loss,
                                     is_best, time.monotonic() - run.progress.started))
    return best.state


def train_epochs(run: TrainingRun, task: Task, kind: Stage) -> bool:
    """Train `task` for `run.settings.epochs` epochs without evaluating (there is nothing held out);
    False when cancelled."""
    stepper = _Stepper(run, task, kind, evaluates=False)
    rng = np.random.default_rng(run.settings.seed)
    return all(stepper.run_epoch(rng, 1) is not None for _ in range(run.settings.epochs))


class _Best:
    """The best weights so far by (accuracy, macro-F1, -eval loss), copied to the CPU."""

    def __init__(self, run: TrainingRun, task: Task) -> None:
        self.run, self.task = run, task
        self.state: dict | None = None
        self.key: tuple | None = None

    def consider(self, scores: dict | None, epoch: int) -> bool:
        """Keep the task's weights when `scores` beat the best so far; says whether they did."""
        if scores is None:
            return False
        key = (scores["accuracy"], scores["macro_f1"], -scores["eval_loss"])
        if self.key is not None and not key > self.key:
            return False
        self.key, self.run.record.best_epoch = key, epoch
        self.state = {k: v.detach().to("cpu", copy=True) for k, v in self.task.module.state_dict().items()}
        return True


class _Stepper:
    """One training stage's optimizer steps: the schedule, clipped gradients, a `StepEvent` per step,
    and the timing of steps and evaluation passes that the ETA is made of."""

    def __init__(self, run: TrainingRun, task: Task, kind: Stage, evaluates: bool = True) -> None:
        settings = run.settings
        self.run, self.task, self.kind = run, task, kind
        self.per_epoch = len(task.train_batches(np.random.default_rng(settings.seed), settings.batch_size))
        self.total = self.per_epoch * settings.epochs
        self.optimizer = torch.optim.AdamW(task.param_groups(settings))
        self.base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.schedule = warmup_linear(self.total, settings.warmup_ratio)
        self.loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
        self.step = 0
        self.evaluates = evaluates
        data = run.data
        eval_ratio = len(data.eval_y) / max(1, len(data.train_y)) if evaluates else 0.0
        self.eta = TrainingEta(self.per_epoch, settings.epochs, eval_ratio,
                               last_stage=kind is not Stage.WARM_START,  # full mode's stage 1: stage 2 follows
                               save_s=save_seconds(parameter_bytes(run.model)),
                               train_again=_repeat_share(run, kind) if evaluates else 0.0)

    def run_epoch(self, rng: np.random.Generator, first_epoch: int) -> list[float] | None:
        """The losses of one pass over the training clips; None when cancelled (within one step)."""
        self.eta.begin_epoch()
        self.task.module.train()
        losses = []
        for indices in self.task.train_batches(rng, self.run.settings.batch_size):
            if self.run.cancel.is_set():
                return None
            losses.append(self._step(indices, first_epoch))
        return losses

    def evaluate(self, counts_as_epoch: bool = True) -> dict | None:
        """`evaluate_task`, timed for the ETA; `counts_as_epoch` False when scoring the starting weights."""
        self.eta.begin_eval()
        scores = evaluate_task(self.run, self.task)
        self.eta.end_eval(counts_as_epoch)
        return scores

    def _step(self, indices: list[int], first_epoch: int) -> float:
        run = self.run
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * self.schedule(self.step)
        with backbone.autocast_for(run.device, run.settings.bf16):
            logits = self.task.logits(indices, True)
        loss = self.loss_fn(logits.float(), run.data.train_y[indices].to(run.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.task.module.parameters(), 1.0)
        self.optimizer.step()
        self.step += 1
        value = float(loss.detach())
        position = first_epoch - 1 + self.step / self.per_epoch
        if self.evaluates:  # the record's curve is the evaluated training's; a final pass on all clips has its own
            run.record.step_losses.append(value)
        else:
            run.record.final_pass_losses.append([position, value])
        self.eta.step_done()
        eta = self.eta.remaining() or 0.0  # never None after a step
        whole = run.progress.whole_run(self.kind, eta)
        run.progress.emit(StepEvent(self.step, self.total, position, value,
                                    self.optimizer.param_groups[-1]["lr"], time.monotonic() - run.progress.started, eta,
                                    run.progress.fraction(self.kind, self.step / self.total, whole), whole))
        return value


def _repeat_share(run: TrainingRun, kind: Stage) -> float:
    """How much training follows this stage again, relative to it: quick mode's pooled head is
    trained once more on all clips (train + eval) after its evaluated run; nothing else is."""
    settings, data = run.settings, run.data
    if kind is not Stage.TRAINING or not settings.final_pass_on_all_clips:
        return 0.0
    return (len(data.train_y) + len(data.eval_y)) / max(1, len(data.train_y))


def parameter_bytes(model: torch.nn.Module) -> int:
    """The size of the model's weights as saved (what the saving estimate scales with)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def warmup_linear(total_steps: int, warmup_ratio: float):
    """The learning-rate factor per step: rises linearly over the warmup, then falls linearly to 0."""
    warmup = max(1, int(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return factor


def predict_task(run: TrainingRun, task: Task, stoppable: bool = True) -> torch.Tensor | None:
    """Eval-split logits (float32, CPU), or None when cancelled (only if `stoppable`)."""
    task.module.eval()
    outputs = {}
    with torch.inference_mode():
        for indices in task.eval_batches(max(8, run.settings.batch_size)):
            if stoppable and run.cancel.is_set():
                return None
            with backbone.autocast_for(run.device, run.settings.bf16):
                logits = task.logits(indices, False)
            for i, row in zip(indices, logits.float().cpu()):
                outputs[i] = row
    return torch.stack([outputs[i] for i in range(len(run.data.eval_y))])


def evaluate_task(run: TrainingRun, task: Task) -> dict | None:
    """The epoch's scores on the eval split (eval_loss, accuracy, macro_f1), or None when cancelled."""
    logits = predict_task(run, task)
    if logits is None:
        return None
    metrics = classification_metrics(run.data.eval_y.numpy(), logits.argmax(-1).numpy(), run.data.labels)
    return {"eval_loss": float(torch.nn.functional.cross_entropy(logits, run.data.eval_y)),
            "accuracy": metrics["accuracy"], "macro_f1": metrics["f1"]["macro"]}
