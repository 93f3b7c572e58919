"""Ranked intents for audio: load a model folder once, classify arrays, files or batches.

Results match `transformers.pipeline("audio-classification", model=DIR)`: the same feature
extractor call, the same forward pass, softmax over the logits, labels from `id2label`. On a
CPU the forward pass runs in the fastest number format that agrees with float32 on this
machine (`intentdesk.core.fastpath`); `precision="fp32"` gives the pipeline's exact numbers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from intentdesk.core import audio, backbone, fastpath
from intentdesk.core.errors import AudioError, ModelError
from intentdesk.core.inputs import InputBuilder
from intentdesk.core.results import FileResult, Prediction


def check_model_folder(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder}: not a model folder (no config.json); choose a folder made by training")
    return folder


class Classifier:
    """A loaded audio-classification model. Thread-safe: one forward pass at a time."""

    def __init__(self, model_dir: Path | str, device: str = "auto", max_seconds: float | None = None,
                 precision: str = "auto") -> None:
        self.model_dir = check_model_folder(Path(model_dir))
        self.feature_extractor = backbone.load_feature_extractor(str(self.model_dir))
        self.device = backbone.pick_device(device)
        self.builder = InputBuilder(self.feature_extractor)
        reference = self._load_float32()
        config = reference.config
        self.config = config
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        self.limits = audio.AudioLimits(max_seconds=max_seconds)
        self._lock = threading.Lock()
        memo = fastpath.ChoiceMemo(self.model_dir) if precision == "auto" else None
        self.choice = fastpath.choose(reference, self._forward, self.rate, self.device, precision,
                                      remembered=memo.read() if memo else None)
        if memo and not self.choice.remembered:
            memo.write(self.choice.precision)
        self.model = self.choice.model

    def _load_float32(self):
        api = backbone.transformers_api()
        try:
            model = api.AutoModelForAudioClassification.from_pretrained(self.model_dir)
        except Exception as error:
            raise ModelError(f"{self.model_dir}: cannot load the model ({str(error).splitlines()[0][:200]})") from error
        return model.to(self.device).eval()

    @property
    def precision(self) -> str:
        return self.choice.precision

    @property
    def rate(self) -> int:
        return self.builder.rate

    def info(self) -> dict:
        """What the GUI shows about a model: labels, base model and stored eval metrics."""
        metrics_file = self.model_dir / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        extra = getattr(self.config, "intentdesk", None) or {}
        return {"labels": self.labels, "base_model": extra.get("base_model", self.config.model_type),
                "mode": extra.get("mode"), "accuracy": metrics.get("accuracy"),
                "macro_f1": metrics.get("f1", {}).get("macro"), "precision": self.precision}

    # ------------------------------------------------------------------ core call
    def _forward(self, model, waves: list[np.ndarray]) -> torch.Tensor:
        dtype = fastpath.model_dtype(model)
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
            self.choice = fastpath.Choice("fp32", self.model, self.choice.timings_ms,
                                          {**self.choice.rejected, self.precision: "failed at run time"})
            return self._forward(self.model, list(waves)).numpy()

    def rank(self, probabilities: np.ndarray, top_k: int | None = None) -> list[Prediction]:
        order = np.argsort(-probabilities, kind="stable")[: top_k or len(self.labels)]
        return [Prediction(self.labels[i], float(probabilities[i])) for i in order]

    # ------------------------------------------------------------------ conveniences
    def load(self, source: Path | bytes, name: str | None = None) -> np.ndarray:
        wave, _ = audio.load_audio(source, self.rate, name=name, limits=self.limits)
        return wave

    def classify_array(self, samples: np.ndarray, rate: int, top_k: int | None = None) -> list[Prediction]:
        wave = audio.check_array(samples, rate, limits=self.limits)
        wave = audio.resample(wave, rate, self.rate)
        return self.rank(self.scores([wave])[0], top_k)

    def classify_file(self, path: Path | str, top_k: int | None = None) -> FileResult:
        """One file; a bad file gives a result with `error` set instead of raising."""
        try:
            wave = self.load(Path(path), str(path))
        except AudioError as error:
            return FileResult(str(path), None, 0.0, str(error))
        started = time.perf_counter()
        probabilities = self.scores([wave])[0]
        latency = (time.perf_counter() - started) * 1000
        return FileResult(str(path), self.rank(probabilities, top_k), latency)

    def classify_files(self, paths: Sequence[Path | str], top_k: int | None = None,
                       batch_size: int = 1) -> list[FileResult]:
        """Many files; a bad file gives a result with `error` set. With `batch_size > 1`, clips
        that can share a forward pass without changing their scores do (see `scores_many`)."""
        if batch_size <= 1:
            return [self.classify_file(p, top_k) for p in paths]
        results: dict[int, FileResult] = {}
        waves: dict[int, np.ndarray] = {}
        for i, path in enumerate(paths):
            try:
                waves[i] = self.load(Path(path), str(path))
            except AudioError as error:
                results[i] = FileResult(str(path), None, 0.0, str(error))
        ok = sorted(waves)
        started = time.perf_counter()
        probabilities = self.scores_many([waves[i] for i in ok], batch_size)
        per_clip = (time.perf_counter() - started) * 1000 / max(1, len(ok))
        for i, row in zip(ok, probabilities):
            results[i] = FileResult(str(paths[i]), self.rank(row, top_k), per_clip)
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
