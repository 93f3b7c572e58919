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

One estimate for the whole run (`RunPlan`): what is left of the current stage plus what the run
does after it, estimated from what was measured so far. The feature pass times the base model on
every clip (seconds per feature), and fine-tuning costs a known multiple of that per clip (below);
the pooled head's training costs milliseconds. Before anything is measured there is no estimate.

`first_quick_seconds` says before a run how long Quick mode's first run on a dataset takes, for
the base models whose cost was measured (BENCHMARKS.md, section 9).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from intentdesk.core.events import Stage

# Saving writes the weights (float32 as trained) and small JSON files, then swaps the folder in.
# Measured: `save_model_folder` with the 33 MB Whisper tiny.en classifier took 0.02 s on the 2-core
# dev machine (no fsync, so the page cache takes it). Assumed, to allow for slower disks: 0.05 s
# for the folder and the swap, and 500 MB/s for the weights (0.8 s for a 380 MB Wav2Vec2-base).
SAVE_FIXED_S = 0.05
SAVE_BYTES_PER_S = 500e6

# What the rest of a run costs, from BENCHMARKS.md section 9 (machine C: 2 CPU cores, float32, alone).
# DEV: 1,120 clips (899 training, 221 test, each training clip also at 0.9x and 1.1x speed: 2,918 features;
# since BENCHMARKS.md 18 Quick's pooled head hears each at one of them: 2,019).
# - Quick, Whisper tiny.en: 1:27 with an empty feature cache, 5.9 s again (cached): the features took
#   81 s, 0.028 s each. The pooled head's epoch is ~30 ms over the 2,697 training features.
# - Quick, wav2vec2-base architecture (95 M parameters, randomly initialised: the same arithmetic as the
#   real model): 11:16 cold, 7.2 s warm: 669 s of features, 0.229 s each (DEV's clips are 3.3 s long on
#   average; this model's cost follows the clip's length, Whisper's its fixed window).
# - Full, Whisper tiny.en (features cached): 6:40 for 6 epochs and 8 test passes of 221 clips (each
#   ~6 s at 0.028 s a clip): 345 s of training over 6 x 899 clips, 0.064 s a clip, 2.3 times a feature.
FINE_TUNE_PER_FEATURE = 2.3  # one training clip's fine-tuning step (forward + backward) / one feature
POOLED_EPOCH_S_PER_FEATURE = 0.030 / 2697
MEASURED_FEATURE_S = {  # seconds per feature in Quick mode's first run, by base model
    "facebook/wav2vec2-base": 0.229,
    "openai/whisper-tiny.en": 0.028,
    "openai/whisper-tiny": 0.028,  # the same network as tiny.en (a larger vocabulary, unused here)
}
MEASURED_CLIP_S = 3.3  # the average clip length of those measurements
WARM_QUICK_S = 7.2  # a Quick run on cached features, Python start included (the larger of the two)


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


def first_quick_seconds(base_model: str, clips: int, eval_share: float, variants: int) -> float | None:
    """How long Quick mode's first run on `clips` clips takes with `base_model` on the measured
    computer (see MEASURED_FEATURE_S), when clips are about MEASURED_CLIP_S long; None for a base
    model whose cost was not measured, or no clips. `variants`: features per training clip."""
    per_feature = MEASURED_FEATURE_S.get(base_model.strip())
    if per_feature is None or clips <= 0:
        return None
    eval_clips = round(clips * eval_share)
    return (eval_clips + variants * (clips - eval_clips)) * per_feature + WARM_QUICK_S


@dataclass(frozen=True)
class RunPlan:
    """What a run does after each of its stages, counted when its clips are known: with the seconds
    per feature that the feature pass measured (`rates`, kept up to date by `Progress`), the seconds
    the run takes after a stage (`after`), hence one estimate for the whole run."""

    mode: str
    train_clips: int
    eval_clips: int
    variants: int  # features per training clip (the clip and its speed variants)
    epochs: int
    warm_start_epochs: int  # full mode's quick passes first (0: none)
    pooled: bool  # the head trains on pooled features (quick mode's default): its cost is known
    again: float  # quick mode's final training on all clips, relative to the first (0: none)
    save_s: float
    rates: dict[Stage, float]

    def after(self, kind: Stage) -> float | None:
        """Seconds from the end of stage `kind` to the saved model (the words part left out);
        None while that cannot be estimated (a stage whose cost is not known and not measured)."""
        if kind in (Stage.TRAINING, Stage.FINE_TUNING):
            return 0.0  # their own estimate (`TrainingEta`) runs to the saved model
        if kind in (Stage.TRANSCRIBING, Stage.TRAINING_WORDS):
            return self.pooled_seconds(self.epochs * self.again) + self.save_s
        if kind is Stage.WARM_START:
            return self.fine_tuning_seconds()
        if kind is not Stage.CACHING_FEATURES or not self.pooled:
            return None
        if self.mode == "quick":
            return self.pooled_seconds(self.epochs * (1 + self.again)) + self.save_s
        fine_tuning = self.fine_tuning_seconds()
        return None if fine_tuning is None else self.pooled_seconds(self.warm_start_epochs) + fine_tuning

    def pooled_seconds(self, epochs: float) -> float:
        return POOLED_EPOCH_S_PER_FEATURE * self.train_clips * self.variants * epochs

    def fine_tuning_seconds(self) -> float | None:
        """Full mode's stage 2 from the feature pass's rate: the epochs' training steps, their test
        passes, the scoring of the warm start before them and of the best model after, and saving."""
        per_feature = self.rates.get(Stage.CACHING_FEATURES)
        if per_feature is None:
            return None
        training = self.epochs * self.train_clips * FINE_TUNE_PER_FEATURE
        return per_feature * (training + (self.epochs + 2) * self.eval_clips) + self.save_s
