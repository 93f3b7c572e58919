"""How long a training stage (and what follows it) still takes, from what the epoch loop has measured.

A step-rate ETA ("stage time so far / steps done x steps left") is wrong twice: it leaves out
the evaluation pass after every epoch, and after the last epoch the run still scores the best
model (one more evaluation pass, `trainer._score`) and saves the folder. So the loop feeds this
estimator its steps and its evaluation passes, and it adds up

    steps left x measured time per step
    + evaluation passes left (the epochs' and the final scoring) x measured time per pass
    + an estimate for saving.

Training time counts from each epoch's start, so the per-epoch batch preparation (full mode
resamples every clip for speed perturbation) is part of it. The time per step is that of the
last epoch's worth of steps, and the time per evaluation pass that of the latest pass: the
estimate forgets the slow first steps and follows a machine that gets busier or freer. Before
the first evaluation pass is measured it is taken as one epoch of training scaled by the
eval/train clip ratio; that overestimates (an evaluation pass runs forward only), but it is
replaced as soon as a pass has been timed, which is the end of the first epoch.

Full mode's warm start is stage 1 of 2: the fine-tuning that follows has not run yet, so nothing
can be measured about it, and the estimate of a stage that is not the last covers that stage
only (its steps and evaluation passes). The words part (transcribing, its head) is not counted
either: it reports its own stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Saving writes the weights (float32 as trained) and small JSON files, then swaps the folder in.
# Measured: `save_model_folder` with the 33 MB Whisper tiny.en classifier took 0.02 s on the 2-core
# dev machine (no fsync, so the page cache takes it). Assumed, to allow for slower disks: 0.05 s
# for the folder and the swap, and 500 MB/s for the weights (0.8 s for a 380 MB Wav2Vec2-base).
SAVE_FIXED_S = 0.05
SAVE_BYTES_PER_S = 500e6


def save_seconds(parameter_bytes: int) -> float:
    """A modest guess at how long saving a model of `parameter_bytes` takes (see the constants)."""
    return SAVE_FIXED_S + parameter_bytes / SAVE_BYTES_PER_S


class TrainingEta:
    """Fed by the epoch loop (`begin_epoch`, `step_done`, `begin_eval`, `end_eval`); `remaining()`
    is the estimate in seconds. `last_stage`: the final scoring and saving follow this stage."""

    def __init__(self, steps_per_epoch: int, epochs: int, eval_train_ratio: float, last_stage: bool,
                 save_s: float, clock: Callable[[], float] = time.monotonic, train_again: float = 0.0) -> None:
        """`train_again`: the training is repeated afterwards on this many times the clips, without
        evaluation (quick mode's final pass on all clips, `PooledTask.learn_from_all`)."""
        self.steps_per_epoch, self.epochs = steps_per_epoch, epochs
        self.train_again = train_again
        self.eval_train_ratio = eval_train_ratio
        self.last_stage, self.save_s = last_stage, save_s
        self.clock = clock
        self.steps = 0
        self.epochs_evaluated = 0
        self._trained: list[float] = []  # training seconds of the stage so far, at each step
        self._finished_s = 0.0  # of the finished epochs (up to their last step)
        self._epoch_start: float | None = None
        self._eval_start: float | None = None
        self._eval_s: float | None = None  # the latest pass

    def begin_epoch(self) -> None:
        if self._epoch_start is not None:  # the last epoch had no evaluation pass: its time is final now
            self._finished_s = self._trained[-1] if self._trained else 0.0
        self._epoch_start = self.clock()

    def step_done(self) -> None:
        self.steps += 1
        in_epoch = 0.0 if self._epoch_start is None else self.clock() - self._epoch_start
        self._trained.append(self._finished_s + in_epoch)

    def begin_eval(self) -> None:
        """An evaluation pass starts: the current epoch's training time is final."""
        self._finished_s = self._trained[-1] if self._trained else 0.0
        self._epoch_start = None
        self._eval_start = self.clock()

    def end_eval(self, counts_as_epoch: bool = True) -> None:
        """The pass ended. `counts_as_epoch` False for a pass outside the epochs (scoring a warm start)."""
        if self._eval_start is not None:
            self._eval_s, self._eval_start = self.clock() - self._eval_start, None
        self.epochs_evaluated += counts_as_epoch

    def step_seconds(self) -> float | None:
        """Seconds per training step over the last epoch's worth of steps; None before the first step."""
        if not self._trained:
            return None
        window = min(len(self._trained), max(1, self.steps_per_epoch))
        before = self._trained[-window - 1] if len(self._trained) > window else 0.0
        return (self._trained[-1] - before) / window

    def eval_seconds(self) -> float | None:
        """Seconds per evaluation pass: the latest measured one, else estimated from the steps."""
        if self._eval_s is not None:
            return self._eval_s
        step = self.step_seconds()
        return None if step is None else step * self.steps_per_epoch * self.eval_train_ratio

    def remaining(self) -> float | None:
        """Seconds until this stage (and, when it is the last, the scoring and saving) is done;
        None before anything was measured."""
        step, evaluation = self.step_seconds(), self.eval_seconds()
        if step is None or evaluation is None:
            return None
        steps_left = self.steps_per_epoch * self.epochs - self.steps
        evals_left = self.epochs - self.epochs_evaluated + self.last_stage
        again = self.steps_per_epoch * self.epochs * self.train_again
        return (steps_left + again) * step + evals_left * evaluation + (self.save_s if self.last_stage else 0.0)
