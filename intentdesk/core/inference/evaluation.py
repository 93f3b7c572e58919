"""Scoring a trained model folder on a dataset (its eval split, or every clip).

For a model with a words part the top-level metrics are the fused ones, and `sound`, `words` and
`fused` hold each opinion's own metrics (as training's `metrics.json` does); when the words part
cannot be loaded, the metrics are by sound only and `words_problem` says why."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from intentdesk.core import staging
from intentdesk.core.data.split import split_clips
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import ModelError, TrainingError, first_line
from intentdesk.core.events import EventCallback, Stage, StageEvent, ignore
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.model_folder import check_model_folder
from intentdesk.core.inference.words_part import with_words
from intentdesk.core.learning.metrics import classification_metrics
from intentdesk.core.learning.settings import spec_of
from intentdesk.core.models.inputs import load_waves
from intentdesk.core.models.model_files import read_json_object


def evaluate_model(model_dir: Path | str, data_dir: Path | str, split: str = "eval", batch_size: int = 8,
                   on_event: EventCallback = ignore, classifier: Classifier | None = None,
                   precision: str = "auto") -> dict:
    """Metrics of the model on the dataset. `split="eval"` reproduces the training run's split
    (same eval share and seed, read from the model's run_settings.json); `"all"` uses every clip."""
    if split not in ("eval", "all"):
        raise TrainingError(f"unknown split {split!r}: use eval or all")
    check_model_folder(Path(model_dir))  # cheap checks first: bad input fails before a slow model load
    store = DatasetStore.open(Path(data_dir))
    clips = store.clips
    if split == "eval":
        _, clips = split_clips(clips, *saved_split(Path(model_dir)))
    if not clips:
        raise TrainingError(f"{data_dir}: no clips to evaluate")
    classifier = classifier or Classifier(model_dir, precision=precision)
    unknown = sorted({c.label for c in clips} - set(classifier.labels))
    if unknown:
        raise ModelError(f"the dataset has labels the model does not know: {', '.join(unknown)} "
                         f"(model labels: {', '.join(classifier.labels)})")
    on_event(StageEvent("Loading audio", 0.0, Stage.LOADING_AUDIO))
    waves, errors = load_waves([store.path_of(c) for c in clips], classifier.rate, None,
                               [c.file_name for c in clips])
    if errors:
        raise TrainingError(f"{len(errors)} clip(s) cannot be read: " + "; ".join(errors[:5]))
    share = 0.5 if classifier.has_words else 1.0  # the other half: transcribing

    def classifying(done: float) -> None:  # counted in clips, so the CLI's bar can say how many
        on_event(StageEvent("Classifying", done * share, Stage.EVALUATING, round(done * len(waves)), len(waves)))

    sound = classifier.sound.scores_many(waves, batch_size, on_progress=classifying)
    classifying(1.0)
    unusable = [clips[i].file_name for i in np.flatnonzero(~np.isfinite(sound).all(-1))]
    if unusable:
        raise TrainingError(f"the model gives no usable scores (not finite numbers) for {len(unusable)} clip(s): "
                            f"{', '.join(unusable[:5])}; check these recordings (samples must lie between -1 and 1)")
    if classifier.has_words:
        on_event(StageEvent("Transcribing and scoring the words", share, Stage.EVALUATING))
    scores = with_words(classifier.words, waves, classifier.rate, sound, classifier.words_problem)
    index = {label: i for i, label in enumerate(classifier.labels)}
    y_true = [index[c.label] for c in clips]
    metrics = classification_metrics(y_true, scores.probabilities.argmax(-1), classifier.labels)
    if scores.words is not None:
        metrics.update({name: classification_metrics(y_true, p.argmax(-1), classifier.labels)
                        for name, p in (("sound", scores.sound), ("words", scores.words),
                                        ("fused", scores.probabilities))})
    if scores.words is not None or classifier.answers.uncertain_below is not None:  # the answers' own verdict
        metrics["uncertain_share"] = float(np.mean([classifier.answers.is_uncertain(clip) for clip in scores.rows()]))
    problem = scores.problem or classifier.words_problem
    if problem:
        metrics["words_problem"] = problem
    metrics["split"] = split
    return metrics


def saved_split(model_dir: Path) -> tuple[float, int]:
    """The eval share and seed the model was trained with (defaults for a folder trained elsewhere)."""
    settings_file = staging.settings_file(model_dir)
    if settings_file is None:
        return 0.2, 0
    fix = "evaluate with --split all, or train again"
    settings = read_json_object(settings_file, fix)
    share, seed = settings.get("eval_share", 0.2), settings.get("seed", 0)
    for name, value, whole in (("eval_share", share, False), ("seed", seed, True)):
        spec = spec_of(name)
        number = isinstance(value, int) if whole else isinstance(value, (int, float)) and math.isfinite(value)
        if isinstance(value, bool) or not number or not spec.minimum <= value <= spec.maximum:
            kind = "a whole number" if whole else "a number"
            raise ModelError(f"{settings_file}: damaged ({name} is {first_line(json.dumps(value), 40)}, but it must be "
                             f"{kind} from {_shown(spec.minimum)} to {_shown(spec.maximum)}); {fix}")
    return float(share), seed


def _shown(bound: float) -> str:
    return f"{bound:,.0f}" if float(bound).is_integer() else f"{bound:g}"
