"""A words-only model: a dataset of typed phrases and no recordings at all (issue #24).

Someone who knows how people ask for each intent can type it before recording anything. The words part
learns the intents from the phrases (typed phrases kept aside, `eval_share` of each intent's, check it and
calibrate its fusion and out-of-scope rules, as the eval split does for clips); the saved folder is still an
ordinary Hugging Face audio classifier (the base model with a head for these intents), but its head is all
zeros, so the sound part says nothing (the same score for every intent: `pipeline()` on it gives a flat
ranking) and the ranking is the words'. config.json's `intentdesk` entry says `sound: untrained`; training
again once there are recordings gives the sound part too.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import ModelError
from intentdesk.core.events import Outcome, Progress, Stage, TrainFinished
from intentdesk.core.learning.saving import save_model_folder
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.words_training import PLAIN_STAGES, WordsModels, record_scores
from intentdesk.core.models import backbone
from intentdesk.core.runs import RunRecord

UNTRAINED_SOUND = {"sound": "untrained"}  # config.json's note for a model whose sound part never learned


def split_phrases(phrases: list[tuple[str, str]], labels: list[str], share: float,
                  seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(learn from, kept aside): of each intent's phrases, `share` (at least one, when it has two or more)
    kept aside to check the model with, chosen by `seed`."""
    rng = np.random.default_rng(seed)
    learn, aside = [], []
    for label in labels:
        own = [pair for pair in phrases if pair[0] == label]
        order = rng.permutation(len(own))
        keep = min(len(own) - 1, max(1, round(share * len(own)))) if len(own) >= 2 else 0
        aside += [own[i] for i in order[:keep]]
        learn += [own[i] for i in order[keep:]]
    return learn, aside


def silent_sound_model(base: str, labels: list[str]):
    """The base model with a classification head for `labels` that is all zeros: the same score for every
    intent, whatever the clip (so the fusion leaves the answer to the words)."""
    model = backbone.load_classifier_model(base, labels)
    head = getattr(model, "classifier", None)
    if head is None:
        raise ModelError(f"{base}: this architecture has no 'classifier' head to leave empty; "
                                  "record a few clips per intent, or choose a Wav2Vec2-like base model")
    with torch.no_grad():
        for parameter in head.parameters():
            parameter.zero_()
    return model


def train_words_only(store: DatasetStore, output_dir: Path, settings: TrainSettings, models: WordsModels,
                     progress: Progress) -> RunRecord:
    """Learn the dataset's intents from its typed phrases alone and save the model (see the module)."""
    from intentdesk.core.words.fusion import FusionSettings
    from intentdesk.core.words.pipeline import train_words, word_probabilities

    phrases = store.texts.phrases()
    labels = sorted({label for label, _ in phrases})
    learn, aside = split_phrases(phrases, labels, settings.eval_share, settings.seed)
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index[label] for label, _ in aside], np.int64)
    flat = np.full((len(aside), len(labels)), 1.0 / len(labels), np.float32)

    def report(text: str, done: int, total: int) -> None:
        shown = f"Words: {PLAIN_STAGES.get(text, text)}"
        progress.stage(Stage.TRAINING_WORDS, f"{shown}: {done:,} of {total:,}" if total else shown, done, total or None)

    progress.stage(Stage.TRAINING_WORDS, f"Words: learning {len(labels)} intents from {len(learn)} typed phrases "
                                         "(no recordings: the words decide)")
    part = train_words(labels, [], [], [], truth.tolist(), flat, phrases=learn,
                       eval_transcripts=[text for _, text in aside], recogniser=models.transcriber,
                       text_encoder=models.encoder, progress=report)
    part.config["training"]["typed_only_labels"] = labels
    part.config["training"]["phrases_kept_aside"] = len(aside)
    record = RunRecord(mode=settings.mode, base_model=settings.base_model, words_asked=True)
    words, _ = word_probabilities(part.head, models.encoder.encode(part.eval_transcripts), part.eval_transcripts)
    fused = FusionSettings.from_dict(part.config["fusion"]).fuse(flat, words)
    record_scores(record, truth, labels, flat, words, fused)
    progress.stage(Stage.LOADING_MODEL, "Loading the base model")
    model = silent_sound_model(settings.base_model, labels)
    feature_extractor = backbone.load_feature_extractor(settings.base_model)
    progress.stage(Stage.SAVING, "Saving the model")
    record.train_seconds = time.monotonic() - progress.started
    record.path = save_model_folder(model, feature_extractor, output_dir, record, settings, part, UNTRAINED_SOUND)
    progress.emit(TrainFinished(Outcome.FINISHED, record, time.monotonic() - progress.started))
    return record
