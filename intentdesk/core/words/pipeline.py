"""Training the words part beside a sound model, and scoring clips with both (the integration API).

Training (after the sound model, with its eval-split probabilities):

    part = train_words(labels, train_waves, train_labels, eval_waves, eval_labels, eval_sound,
                       phrases=[("balance", "how much money do I have"), ...], progress=callback)
    save_words(MODEL, part.config, part.head)

Inference (the sound model's probabilities come from the usual classifier):

    words = WordsModel.load(MODEL)                  # ModelError when incomplete or not loadable
    result = words.score(waves_16k, sound_probabilities)
    result.probabilities, result.uncertain, result.transcripts
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intentdesk.core.errors import ModelError, TrainingError
from intentdesk.core.models.references import stored_reference
from intentdesk.core.words import fusion
from intentdesk.core.words.asr import DEFAULT_RECOGNISER, Transcriber, normalise_text, vocabulary_prompt
from intentdesk.core.words.background import background_bank
from intentdesk.core.words.checks import BadEntry
from intentdesk.core.words.head import WordsHead, train_head
from intentdesk.core.words.layout import CONFIG, RETRAIN, load_words, part_source, words_folder
from intentdesk.core.words.text_encoder import DEFAULT_TEXT_ENCODER, TextEncoder

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# min_similarity and min_margin: this low quantile of the eval clips' similarity to other intents' texts
# (and of that similarity less the background's); chosen on the validation corpora (BENCHMARKS.md 8c)
UNCERTAIN_SHARE = 0.01


@dataclass
class TrainedWords:
    config: dict
    head: WordsHead
    train_transcripts: list[str] = field(default_factory=list)
    eval_transcripts: list[str] = field(default_factory=list)


@dataclass
class WordsResult:
    probabilities: np.ndarray          # fused, rows = clips
    words_probabilities: np.ndarray
    similarity: np.ndarray             # cosine to the nearest training text (-1: no words heard)
    uncertain: np.ndarray              # bool: answer "uncertain" (out of scope or not understood)
    transcripts: list[str]


def _stage(progress: Progress | None, stage: str):
    return (lambda done, total: progress(stage, done, total)) if progress else None


def train_words(labels: Sequence[str], train_waves: Sequence[np.ndarray], train_labels: Sequence[int],
                eval_waves: Sequence[np.ndarray], eval_labels: Sequence[int], eval_sound: np.ndarray, *,
                phrases: Sequence[tuple[str, str]] = (), train_transcripts: Sequence[str | None] | None = None,
                eval_transcripts: Sequence[str] | None = None, recogniser: str | Transcriber = DEFAULT_RECOGNISER,
                text_encoder: str | TextEncoder = DEFAULT_TEXT_ENCODER, device: str = "cpu",
                cache_dir: Path | str | None | bool = None, progress: Progress | None = None) -> TrainedWords:
    """Transcribe, embed, fit the head on the training clips (+ typed `phrases`), calibrate and
    set the fusion and out-of-scope thresholds on the eval split. Waves: float32 mono 16 kHz.

    `train_transcripts` may hold known transcripts (the user's corrections, or the recogniser's stored
    in the dataset): those clips are not heard again; None = let the recogniser transcribe. Labels are
    indices into `labels`, which must be the sound model's labels in id order (then any learned from typed
    phrases alone). `eval_transcripts` stand for the eval clips' transcripts (a words-only model is checked on
    typed phrases kept aside, with no audio at all).
    """
    labels = [str(label) for label in labels]
    index = {label: i for i, label in enumerate(labels)}
    asr = recogniser if isinstance(recogniser, Transcriber) else Transcriber(
        recogniser, device=device, prompt=vocabulary_prompt(labels), cache_dir=cache_dir)
    encoder = text_encoder if isinstance(text_encoder, TextEncoder) else TextEncoder(
        text_encoder, device=device, cache_dir=cache_dir)
    heard = list(train_transcripts) if train_transcripts is not None else [None] * len(train_waves)
    unknown_clips = [i for i, text in enumerate(heard) if text is None]  # only these need the recogniser
    recognised = asr.transcribe([train_waves[i] for i in unknown_clips],
                                _stage(progress, "transcribing training clips"))
    for i, text in zip(unknown_clips, recognised):
        heard[i] = text
    eval_heard = list(eval_transcripts) if eval_transcripts is not None else \
        asr.transcribe(list(eval_waves), _stage(progress, "transcribing eval clips"))
    unknown = sorted({label for label, _ in phrases if label not in index})
    if unknown:
        raise TrainingError(f"typed phrases name labels the model does not have: {', '.join(unknown[:5])}")
    texts = list(heard) + [text for _, text in phrases]
    targets = np.r_[np.asarray(train_labels, np.int64), [index[label] for label, _ in phrases]].astype(np.int64)
    keep = np.array([bool(normalise_text(t)) for t in texts], dtype=bool)  # nothing heard: nothing to learn
    if not keep.any():
        raise TrainingError("the recogniser heard no words in any training clip, so the words part cannot be "
                            "trained; check the clips have speech, or type example phrases")
    embeddings = encoder.encode([t for t, k in zip(texts, keep) if k], _stage(progress, "embedding texts"))
    started = time.perf_counter()
    head = train_head(embeddings, targets[keep], labels, progress=_stage(progress, "training the words head"))
    head.info["seconds"] = round(time.perf_counter() - started, 3)
    head.background = background_bank(encoder.encode, head.bank)
    eval_embeddings = encoder.encode(eval_heard)
    settings, metrics = calibrate(head, eval_embeddings, eval_heard, np.asarray(eval_sound, np.float32),
                                  np.asarray(eval_labels, np.int64))
    config = {"recogniser": recogniser_config(asr), "text_encoder": {"source": stored_reference(encoder.source),
              "fingerprint": encoder.fingerprint, "dim": encoder.dim},
              "fusion": settings.to_dict(), "metrics": metrics,
              "training": {"clips": len(heard), "typed_phrases": len(phrases),
                           "transcripts_given": len(heard) - len(unknown_clips)}}
    return TrainedWords(config, head, list(heard), list(eval_heard))


def recogniser_config(asr: Transcriber) -> dict:
    return {"source": stored_reference(asr.source), "fingerprint": asr.fingerprint, "fit_window": asr.fit_window,
            "window_step": asr.window_step, "window_padding": asr.window_padding,
            "max_new_tokens": asr.max_new_tokens, "prompt": asr.prompt, "num_beams": asr.num_beams,
            "language": asr.language, "no_speech_threshold": asr.no_speech_threshold}


def word_probabilities(head: WordsHead, embeddings: np.ndarray, transcripts: Sequence[str]) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """(probabilities, similarity); a clip with no words heard gets flat probabilities and similarity
    -1 (below any threshold), so the fusion leaves it to the sound model and it is flagged uncertain."""
    probabilities = head.probabilities(embeddings)
    similarity = head.max_similarity(embeddings)
    silent = np.array([not normalise_text(t) for t in transcripts], dtype=bool)
    if silent.any():
        probabilities[silent] = 1.0 / len(head.labels)
        similarity[silent] = -1.0
    return probabilities, similarity


def calibrate(head: WordsHead, eval_embeddings: np.ndarray, eval_transcripts: Sequence[str], eval_sound: np.ndarray,
              eval_labels: np.ndarray) -> tuple[fusion.FusionSettings, dict]:
    """Temperatures and the similarity and background-margin thresholds from the eval split; the
    words weight and `min_top` stay the defaults (see `fusion`). Returns the settings and the eval metrics.

    The eval split holds the training wordings, so the similarity of its transcripts to the
    training texts says nothing about new wordings (half are near 1.0); their similarity to the
    texts of the other intents does: an in-scope sentence is rarely farther than that from
    everything. `min_similarity` is its `UNCERTAIN_SHARE` quantile, `min_margin` the same quantile of
    it less each clip's similarity to the nearest background sentence."""
    words, similarity = word_probabilities(head, eval_embeddings, eval_transcripts)
    settings = fusion.FusionSettings()
    if len(eval_labels):
        settings.t_sound = fusion.fit_temperature(eval_sound, eval_labels)
        settings.t_words = fusion.fit_temperature(words, eval_labels)
        fused = settings.fuse(eval_sound, words)
        heard = np.array([bool(normalise_text(t)) for t in eval_transcripts], dtype=bool)
        others = fusion.other_intent_similarity(eval_embeddings[heard], eval_labels[heard], head.bank, head.bank_labels)
        settings.min_similarity = fusion.share_threshold(others, UNCERTAIN_SHARE)
        margins = head.background_margin(eval_embeddings[heard], others)  # as far as new wordings get
        if margins is not None and len(margins):
            settings.min_margin = fusion.share_threshold(margins, UNCERTAIN_SHARE)
        flagged = settings.uncertain(fused, similarity, head.background_margin(eval_embeddings, similarity))
    else:
        fused, flagged = words, np.zeros(0, bool)

    def accuracy(p: np.ndarray) -> float | None:
        return float((p.argmax(axis=1) == eval_labels).mean()) if len(eval_labels) else None

    metrics = {"eval_clips": int(len(eval_labels)), "sound_accuracy": accuracy(eval_sound),
               "words_accuracy": accuracy(words), "fused_accuracy": accuracy(fused),
               "uncertain_share": float(flagged.mean()) if len(flagged) else None}
    return settings, metrics


class WordsModel:
    """The loaded words part of a model folder: recogniser, text encoder, head and fusion settings."""

    def __init__(self, config: dict, head: WordsHead, settings: fusion.FusionSettings, transcriber: Transcriber,
                 encoder: TextEncoder) -> None:
        self.config, self.head, self.settings = config, head, settings
        self.transcriber, self.encoder = transcriber, encoder

    @classmethod
    def load(cls, model_dir: Path | str, sound_labels: list[str] | None = None, device: str = "cpu",
             cache_dir: Path | str | None | bool = None) -> WordsModel:
        """`ModelError` (saying which model and what to do) when the words part is incomplete or not sensible
        (`load_words`), or its recogniser or text encoder cannot be loaded (e.g. a hub id while offline) or
        does not fit its settings."""
        config, head, settings = load_words(model_dir, sound_labels)
        rec, file = config["recogniser"], words_folder(model_dir) / CONFIG
        try:
            transcriber = Transcriber(part_source(model_dir, config, "recogniser"), device=device,
                                      fit_window=rec.get("fit_window", True), window_step=rec.get("window_step", 2.0),
                                      window_padding=rec.get("window_padding", 2.0),
                                      max_new_tokens=rec.get("max_new_tokens", 40), prompt=rec.get("prompt", ""),
                                      num_beams=rec.get("num_beams", 1), language=rec.get("language", ""),
                                      no_speech_threshold=rec.get("no_speech_threshold"), cache_dir=cache_dir)
        except BadEntry as error:  # its settings do not fit this recogniser
            raise error.refusal(file, RETRAIN) from error
        encoder = TextEncoder(part_source(model_dir, config, "text_encoder"), device=device,
                              cache_dir=cache_dir)
        expected = config["text_encoder"].get("fingerprint")
        if expected and encoder.fingerprint != expected:
            raise ModelError(f"{file}: 'text_encoder.fingerprint' is not that of the text encoder {encoder.source!r} "
                             "(its weights differ from the one the words head was trained with); train the model again")
        if encoder.dim != head.dim:
            raise ModelError(f"{file}: the text encoder {encoder.source!r} ('text_encoder.source') gives {encoder.dim}-"
                             f"number embeddings, but the head takes {head.dim}; train the model again")
        return cls(config, head, settings, transcriber, encoder)

    @property
    def recogniser_changed(self) -> bool:
        """The recogniser loaded is not the one used in training (transcripts may differ a little)."""
        trained_with = self.config["recogniser"].get("fingerprint")
        return bool(trained_with) and self.transcriber.fingerprint != trained_with

    def score(self, waves: Sequence[np.ndarray], sound_probabilities: np.ndarray,
              transcripts: Sequence[str] | None = None, progress: Progress | None = None) -> WordsResult:
        """Fused probabilities for clips (float32 mono 16 kHz) whose sound-only probabilities are given."""
        heard = list(transcripts) if transcripts is not None else \
            self.transcriber.transcribe(list(waves), _stage(progress, "transcribing"))
        embeddings = self.encoder.encode(heard)
        words, similarity = word_probabilities(self.head, embeddings, heard)
        fused = self.settings.fuse(np.asarray(sound_probabilities, np.float32), words)
        uncertain = self.settings.uncertain(fused, similarity, self.head.background_margin(embeddings, similarity))
        return WordsResult(fused, words, similarity, uncertain, heard)
