"""Ranked intents for audio: load a model folder once, classify arrays, files or batches.

Results match `transformers.pipeline("audio-classification", model=DIR)`: the same feature
extractor call, the same forward pass, softmax over the logits, labels from `id2label`. On a
CPU the forward pass runs in the fastest number format that agrees with float32 on this
machine (`intentdesk.core.inference.precision`); `precision="fp32"` gives the pipeline's exact numbers.

A model trained with words (`MODEL/words/`) is ranked by the fused sound + words probabilities and
its results carry the transcript (`words_part`); `pipeline(...)` on the same folder still gives the
sound-only ranking. When the words part cannot be loaded, `words_problem` says why, the model
classifies by sound only, and each result says so (`FileResult.words_problem`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError, ModelError
from intentdesk.core.inference.precision import Choice, ChoiceMemo, choose, model_dtype
from intentdesk.core.inference.results import FileResult, Prediction
from intentdesk.core.inference.words_part import ClipScore, Scores, describe_words, load_words_part, with_words
from intentdesk.core.models import backbone, hub
from intentdesk.core.models.inputs import InputBuilder
from intentdesk.core.runs import read_record

# Longest stretch of a clip a raw-waveform model is given: attention cost grows with the square
# of the length, so an hour-long file would never finish. Spectrogram models (Whisper) have
# their own fixed window. Intent clips are a few seconds; longer input is cut and said so.
LONGEST_INPUT_SECONDS = audio.DEFAULT_MAX_SECONDS
# The modules an audio-classification head adds on top of a backbone (Wav2Vec2, HuBERT, WavLM,
# Data2Vec, Whisper, AST): missing from a checkpoint, they mean nobody trained it to classify.
HEAD_MODULES = ("classifier", "projector", "layer_weights")


def check_model_folder(folder: Path) -> Path:
    """A trained classifier folder, checked file by file before loading (see `hub.check_classifier_folder`)."""
    return hub.check_classifier_folder(folder)


def describe_load_error(folder: Path, error: BaseException) -> str:
    """What a failed `from_pretrained` of a checked folder means, in the user's terms."""
    text = str(error)
    if "ignore_mismatched_sizes" not in text and "size mismatch" not in text:
        return hub.error_line(error)
    if hub.label_names(folder, hub.read_json_object(folder / hub.CONFIG, hub.EDITED)) is None:
        return ("config.json has no id2label (the intent names), and the weights do not have the 2 outputs "
                f"that means; {hub.INCOMPLETE}")
    return ("the weights do not fit config.json (e.g. id2label lists a different number of intents than the "
            f"weights have); {hub.EDITED}")


def check_loading(folder: Path, loading: dict) -> None:
    """Every weight of the model came from the folder's weight files, and every weight there was used.
    transformers fills missing ones with random numbers and drops unused ones: either way the ranking
    would be noise, from a base model never trained on intents or a config.json that was changed."""
    missing = sorted(loading.get("missing_keys", ()))
    untrained = [key for key in missing if key.split(".")[0] in HEAD_MODULES]
    if untrained:
        raise ModelError(f"{folder}: has no trained classification head ({untrained[0]} is not "
                         "in its weights): it is a base model, not one trained on intents; train on it first "
                         f"(intentdesk train DATA --base {folder} --out NEW_FOLDER)")
    unused = sorted(loading.get("unexpected_keys", ()))
    if missing or unused:
        what = f"{missing[0]} is not in its weights" if missing else \
            f"its weights hold {unused[0]}, which the model has no place for"
        raise ModelError(f"{folder}: the weights do not fit config.json ({what}; a size or count in config.json was "
                         f"changed); {hub.EDITED}")


class Classifier:
    """A loaded audio-classification model. Thread-safe: one forward pass at a time."""

    words = None  # the loaded words part (`WordsModel`), when the folder has one that loads
    words_problem: str | None = None  # why the folder's words part is not used (then: sound only)

    def __init__(self, model_dir: Path | str, device: str = "auto", max_seconds: float | None = None,
                 precision: str = "auto") -> None:
        self.model_dir = check_model_folder(Path(model_dir))
        self.feature_extractor = backbone.load_feature_extractor(str(self.model_dir))
        self.device = backbone.pick_device(device)
        self.builder = InputBuilder(self.feature_extractor)
        reference = self._load_float32()
        config = reference.config
        self.config = config
        self.labels = [str(config.id2label[i]) for i in range(config.num_labels)]
        self.limits = audio.AudioLimits(max_seconds=max_seconds)
        self._lock = threading.Lock()
        memo = ChoiceMemo(self.model_dir) if precision == "auto" else None
        self.choice = choose(reference, self._forward, self.rate, self.device, precision,
                             remembered=memo.read() if memo else None)
        if memo and not self.choice.remembered:
            memo.write(self.choice.precision)
        self.model = self.choice.model
        self.words, self.words_problem = load_words_part(self.model_dir, self.labels, str(self.device))

    @property
    def has_words(self) -> bool:
        """Whether results are fused with a loaded words part (and carry transcripts)."""
        return self.words is not None

    def _load_float32(self):
        api = backbone.transformers_api()
        config = backbone.load_config(str(self.model_dir))
        backbone.check_fits_weights(self.model_dir, config)
        try:
            model, loading = api.AutoModelForAudioClassification.from_pretrained(self.model_dir, config=config,
                                                                                 output_loading_info=True)
        except Exception as error:
            problem = describe_load_error(self.model_dir, error)
            raise ModelError(f"{self.model_dir}: cannot load the model: {problem}") from error
        check_loading(self.model_dir, loading)
        backbone.check_inputs(self.model_dir, model, self.feature_extractor)
        return model.to(self.device).eval()

    @property
    def precision(self) -> str:
        return self.choice.precision

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
                "mode": extra.get("mode"), "accuracy": record.accuracy,
                "macro_f1": record.macro_f1, "precision": self.precision, "words": self.has_words,
                "words_problem": self.words_problem, **describe_words(self.words)}

    # ------------------------------------------------------------------ core call
    def _forward(self, model, waves: list[np.ndarray]) -> torch.Tensor:
        dtype = model_dtype(model)
        inputs = self.builder.build(waves)
        inputs = {k: v.to(self.device, dtype) if v.is_floating_point() else v.to(self.device)
                  for k, v in inputs.items()}
        return model(**inputs).logits.float().softmax(-1).cpu()

    def scores(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Softmax probabilities, one row per wave (waves at `self.rate`, mono float32)."""
        with self._lock, torch.inference_mode():
            try:
                return self._forward(self.model, list(waves)).numpy()
            except RuntimeError:
                if self.precision == "fp32":
                    raise
            # A fast format that fails on some input (an op without a bf16/int8 kernel here)
            # must never cost the user a result: fall back to float32 for good.
            self.model = self._load_float32()
            self.choice = Choice("fp32", self.model, self.choice.timings_ms,
                                 {**self.choice.rejected, self.precision: "failed at run time"})
            return self._forward(self.model, list(waves)).numpy()

    def with_words(self, waves: Sequence[np.ndarray], sound: np.ndarray) -> Scores:
        """The sound probabilities of `waves` fused with the words part's (as they are without one)."""
        return with_words(self.words, list(waves), self.rate, sound, self.words_problem)

    def score_clips(self, waves: Sequence[np.ndarray], batch_size: int = 8,
                    on_progress: Callable[[float], None] | None = None) -> Scores:
        """`scores_many`, then the words part on the same clips: every path that ranks uses this."""
        return self.with_words(waves, self.scores_many(waves, batch_size, on_progress))

    def score_batch(self, waves: Sequence[np.ndarray]) -> list[ClipScore]:
        """One forward pass for clips that can share it (the service's batches), then the words part."""
        return self.with_words(waves, self.scores(waves)).rows()

    def rank(self, probabilities: np.ndarray, top_k: int | None = None) -> list[Prediction]:
        probabilities = np.asarray(probabilities)  # a `ClipScore` ranks by its probabilities
        order = np.argsort(-probabilities, kind="stable")[: top_k or len(self.labels)]
        return [Prediction(self.labels[i], float(probabilities[i])) for i in order]

    def check_scores(self, probabilities: np.ndarray, source: str, wave: np.ndarray | None = None) -> None:
        """Raise `AudioError` when a clip's scores are not numbers: a ranking of NaNs would look like an
        answer, and NaN is not valid JSON. When the clip (`wave`, as the model got it) is ordinary sound,
        finite and within ±1, the model is at fault (values in its files that are not numbers), not the audio."""
        if np.all(np.isfinite(probabilities)):
            return
        if wave is not None and np.isfinite(wave).all() and (not wave.size or np.abs(wave).max() <= 1.0):
            raise AudioError(source, "the model gives no usable scores for this clip (not finite numbers), although "
                             "the audio is ordinary sound", "the model folder is damaged (its weights or settings "
                             "hold values that are not numbers): train the model again, or copy it again")
        raise AudioError(source, "the model gives no usable scores for this audio (not finite numbers)",
                         "check that it is ordinary sound with samples between -1 and 1")

    @property
    def longest_input_seconds(self) -> float:
        """How much of a clip the model sees: its fixed window, or `LONGEST_INPUT_SECONDS`."""
        return self.builder.fixed_window or LONGEST_INPUT_SECONDS

    def fit_length(self, wave: np.ndarray) -> tuple[np.ndarray, str | None]:
        """The part of a wave (at `self.rate`) the model uses, and a note when that is not all of it,
        so a long recording is never scored on its first seconds without saying so."""
        window = self.longest_input_seconds
        keep = int(round(window * self.rate))
        if len(wave) <= keep:
            return wave, None
        return wave[:keep], f"only the first {window:.1f} s of {len(wave) / self.rate:.1f} s were used"

    # ------------------------------------------------------------------ conveniences
    def load_clip(self, source: Path | bytes, name: str | None = None,
                  limits: audio.AudioLimits | None = None) -> tuple[np.ndarray, str | None]:
        """The part of a file or an upload the model uses (at `self.rate`), and a note when that is not
        all of it. Without a length limit (`limits`, else the classifier's own), only that part of a file
        is decoded: a two-hour file costs no more than its first window. With one (the service), a
        longer clip is refused before decoding instead (`AudioTooLong`)."""
        limits = limits or self.limits
        if name is None and isinstance(source, Path):
            name = str(source)
        if limits.max_seconds is not None or not isinstance(source, Path):
            wave, _ = audio.load_audio(source, self.rate, name=name, limits=limits)
            return self.fit_length(wave)
        window = self.longest_input_seconds
        wave, _ = audio.load_audio(source, self.rate, name=name, limits=limits, cut_seconds=window)
        wave, _ = self.fit_length(wave)  # resampling may round up by a sample
        total = audio.duration_seconds(source)  # from the header; 0.0 when it does not say
        if total > window + 1e-3:
            return wave, f"only the first {window:.1f} s of {total:.1f} s were used"
        if not total and len(wave) >= int(window * self.rate):
            return wave, f"only the first {window:.1f} s were used"
        return wave, None

    def to_result(self, name: str, scores: np.ndarray | ClipScore, latency_ms: float, note: str | None = None,
                  top_k: int | None = None, wave: np.ndarray | None = None) -> FileResult:
        """A clip's scores (probabilities, or a `ClipScore` with its transcript) as its ranked result,
        or as an error when they are not numbers (`check_scores`, told the clip when known): the one
        place the CLI, the GUI and the service turn scores into an answer. An answer by sound only
        from a model with a words part says why (`words_problem`)."""
        clip = scores if isinstance(scores, ClipScore) else ClipScore(scores)
        try:
            self.check_scores(clip.probabilities, name, wave)
        except AudioError as error:
            return FileResult(name, None, 0.0, str(error))
        return FileResult(name, self.rank(clip.probabilities, top_k), latency_ms, note=note,
                          transcript=clip.transcript, uncertain=clip.uncertain, words_problem=clip.problem)

    def classify_recording(self, samples: np.ndarray, rate: int, top_k: int | None = None,
                           name: str = "recording") -> FileResult:
        """A recording's ranked result with its transcript (live mode, the Record button).
        `AudioError` when the samples are not usable audio or get no usable scores."""
        wave = audio.check_array(samples, rate, name, limits=self.limits)
        wave, note = self.fit_length(audio.resample(wave, rate, self.rate))
        started = time.perf_counter()
        clip = self.score_clips([wave], 1).clip(0)
        self.check_scores(clip.probabilities, name, wave)
        return self.to_result(name, clip, (time.perf_counter() - started) * 1000, note, top_k, wave)

    def classify_array(self, samples: np.ndarray, rate: int, top_k: int | None = None,
                       name: str = "recording") -> list[Prediction]:
        """The ranking alone (fused when the model has words); see `classify_recording`."""
        return self.classify_recording(samples, rate, top_k, name).ranking or []

    def classify_file(self, path: Path | str, top_k: int | None = None) -> FileResult:
        """One file; a bad file gives a result with `error` set instead of raising."""
        return self.classify_files([path], top_k)[0]

    def classify_files(self, paths: Sequence[Path | str], top_k: int | None = None,
                       batch_size: int = 1) -> list[FileResult]:
        """Many files; a bad file gives a result with `error` set. With `batch_size > 1`, clips
        that can share a forward pass without changing their scores do (see `scores_many`)."""
        results: dict[int, FileResult] = {}
        waves: dict[int, np.ndarray] = {}
        notes: dict[int, str | None] = {}
        for i, path in enumerate(paths):
            try:
                waves[i], notes[i] = self.load_clip(Path(path), str(path))
            except AudioError as error:
                results[i] = FileResult(str(path), None, 0.0, str(error))
        ok = sorted(waves)
        started = time.perf_counter()
        scored = self.score_clips([waves[i] for i in ok], batch_size)
        per_clip = (time.perf_counter() - started) * 1000 / max(1, len(ok))
        for n, i in enumerate(ok):
            results[i] = self.to_result(str(paths[i]), scored.clip(n), per_clip, notes[i], top_k, waves[i])
        return [results[i] for i in range(len(paths))]

    def scores_many(self, waves: Sequence[np.ndarray], batch_size: int = 8,
                    on_progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Scores of many waves in length-bucketed batches (the same scores as one by one)."""
        probabilities = np.zeros((len(waves), len(self.labels)), np.float32)
        batches = self.builder.inference_batches([len(w) for w in waves], max(1, batch_size))
        for n, batch in enumerate(batches):
            if on_progress:
                on_progress(n / len(batches))
            probabilities[batch] = self.scores([waves[i] for i in batch])
        return probabilities
