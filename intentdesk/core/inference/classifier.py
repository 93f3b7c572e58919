"""Ranked intents for audio: load a model folder once, then classify files, arrays or batches.

Results match `transformers.pipeline("audio-classification", model=DIR)`: the same feature
extractor call, the same forward pass, softmax over the logits, labels from `id2label`. On a
CPU the forward pass runs in the fastest number format that agrees with float32 on this
machine (`sound.SoundModel`); `precision="fp32"` gives the pipeline's exact numbers.

A model trained with words (`MODEL/words/`) is ranked by the fused sound + words probabilities and
its results carry the transcript (`words_part`); `pipeline(...)` on the same folder still gives the
sound-only ranking. When the words part cannot be loaded, `words_problem` says why, the model
classifies by sound only, and each result says so (`FileResult.words_problem`).

The `Classifier` only puts its parts together, each with one job: `model_folder` (checks and the
float32 load), `sound` (the precision choice and its fallback), `words_part` (the fusion), `clips`
(decoding, windows and notes) and `results.Answers` (ranking, checks, the `uncertain` flag). Callers
use one of three ways in: `classify_files` (paths), `classify_recording` (an array at any rate) and
`score_waves` (a batch of waves already at the model's rate, for the service and evaluation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError
from intentdesk.core.inference.clips import ClipReader
from intentdesk.core.inference.model_folder import check_model_folder, sound_uncertain_below
from intentdesk.core.inference.results import Answers, FileResult
from intentdesk.core.inference.sound import SoundModel
from intentdesk.core.inference.words_part import Scores, describe_words, load_words_part, with_words
from intentdesk.core.models import backbone
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.runs import read_record


class Classifier:
    """A loaded audio-classification model folder. Thread-safe: one forward pass at a time."""

    words = None  # the loaded words part (`WordsModel`), when the folder has one that loads
    words_problem: str | None = None  # why the folder's words part is not used (then: sound only)

    def __init__(self, model_dir: Path | str, device: str = "auto", max_seconds: float | None = None,
                 precision: str = "auto") -> None:
        self.model_dir = check_model_folder(Path(model_dir))
        self.builder = InputBuilder(backbone.load_feature_extractor(str(self.model_dir)))
        self.sound = SoundModel(self.model_dir, self.builder, backbone.pick_device(device), precision)
        self.config = self.sound.config
        self.labels = [str(self.config.id2label[i]) for i in range(self.config.num_labels)]
        limits = audio.AudioLimits(max_seconds=max_seconds)
        self.clips = ClipReader(self.builder.rate, self.builder.fixed_window, limits)
        self.words, self.words_problem = load_words_part(self.model_dir, self.labels, str(self.sound.device))
        if self.words is not None:  # its intents: the sound model's, then any learned from typed phrases alone
            self.labels = list(self.words.head.labels)
        self.answers = Answers(self.labels, sound_uncertain_below(self.config))

    @property
    def has_words(self) -> bool:
        """Whether results are fused with a loaded words part (and carry transcripts)."""
        return self.words is not None

    @property
    def precision(self) -> str:
        return self.sound.precision

    @property
    def rate(self) -> int:
        return self.builder.rate

    def info(self) -> dict:
        """What the GUI shows about a model: labels, base model and stored eval metrics."""
        record = read_record(self.model_dir)  # empty when metrics.json is missing or damaged: never stops a model
        extra = getattr(self.config, "intentdesk", None)
        extra = {key: value for key, value in extra.items() if isinstance(value, str)} \
            if isinstance(extra, dict) else {}  # what IntentDesk wrote there; anything else is not shown
        return {"labels": self.labels, "base_model": extra.get("base_model", self.config.model_type),
                "mode": extra.get("mode"), "words_only": extra.get("sound") == "untrained", "accuracy": record.accuracy,
                "macro_f1": record.macro_f1, "precision": self.precision, "words": self.has_words,
                "words_problem": self.words_problem, **describe_words(self.words)}

    # ------------------------------------------------------------------ the three ways in
    def classify_files(self, paths: Sequence[Path | str], top_k: int | None = None,
                       batch_size: int = 1) -> list[FileResult]:
        """Files, each read once; a bad file gives a result with `error` set instead of raising. With
        `batch_size > 1`, clips that can share a forward pass without changing their scores do."""
        results: dict[int, FileResult] = {}
        waves: dict[int, np.ndarray] = {}
        notes: dict[int, str | None] = {}
        for i, path in enumerate(paths):
            try:
                waves[i], notes[i] = self.clips.read(Path(path), str(path))
            except AudioError as error:
                results[i] = FileResult(str(path), None, 0.0, str(error))
        ok = sorted(waves)
        started = time.perf_counter()
        scored = self.score_waves([waves[i] for i in ok], batch_size)
        per_clip = (time.perf_counter() - started) * 1000 / max(1, len(ok))
        for n, i in enumerate(ok):
            results[i] = self.answers.result(str(paths[i]), scored.clip(n), per_clip, notes[i], top_k, waves[i])
        return [results[i] for i in range(len(paths))]

    def classify_recording(self, samples: np.ndarray, rate: int, top_k: int | None = None,
                           name: str = "recording") -> FileResult:
        """A recording in memory at any `rate` (live mode, the Record button): its ranked result with its
        transcript. `AudioError` when the samples are not usable audio or get no usable scores."""
        wave, note = self.clips.from_array(samples, rate, name)
        started = time.perf_counter()
        clip = self.score_waves([wave], 1).clip(0)
        self.answers.check_scores(clip.probabilities, name, wave)
        return self.answers.result(name, clip, (time.perf_counter() - started) * 1000, note, top_k, wave)

    def score_waves(self, waves: Sequence[np.ndarray], batch_size: int = 8,
                    on_progress: Callable[[float], None] | None = None) -> Scores:
        """Waves at `self.rate` (already fitted, e.g. by `clips.read`) scored by sound in length-bucketed
        batches, then by the words part on the same clips: every path that ranks comes through here."""
        return with_words(self.words, list(waves), self.rate,
                          self.sound.scores_many(waves, batch_size, on_progress), self.words_problem)
