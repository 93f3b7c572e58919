"""Training with words (issue #14): the words part trained after the sound model, saved beside it."""

from __future__ import annotations

import json

import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.events import Outcome, Stage, StageEvent, TrainFinished
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.trainer import train
from intentdesk.core.runs import read_record

PHRASES = {"high": ["a high sound please", "the high one"], "low": ["low please", "the low tone"],
           "mid": ["the mid tone", "mid please"]}


def words_settings(base, asr, encoder, **more) -> TrainSettings:
    return TrainSettings(base_model=str(base), mode="quick", epochs=2, batch_size=4, words=True, asr=str(asr),
                         text_encoder=str(encoder), **more)


def test_quick_run_with_words_saves_both_parts(tone_dataset, tiny_wav2vec2, tiny_recogniser, tiny_text_encoder,
                                               tmp_path):
    for label, texts in PHRASES.items():
        tone_dataset.texts.add_phrases(label, texts)
    tone_dataset.texts.add_phrases("unheard", ["a label with no clips"])  # typed only: learned from the words alone
    fixed = tone_dataset.clips[0].file_name
    tone_dataset.texts.set_transcripts({fixed: "the high one"}, "user")
    events = []
    record = train(tone_dataset.root, tmp_path / "model", words_settings(tiny_wav2vec2, tiny_recogniser,
                                                                         tiny_text_encoder), events.append)
    kinds = [e.kind for e in events if isinstance(e, StageEvent)]
    assert Stage.TRANSCRIBING in kinds and Stage.TRAINING_WORDS in kinds
    assert kinds.index(Stage.TRAINING_WORDS) < kinds.index(Stage.SAVING)
    fractions = [e.fraction for e in events if isinstance(e, StageEvent)]
    assert fractions == sorted(fractions)
    assert isinstance(events[-1], TrainFinished) and events[-1].outcome is Outcome.FINISHED
    folder = record.path
    assert (folder / "words" / "words_config.json").is_file() and (folder / "words" / "head.safetensors").is_file()
    assert set(json.loads((folder / "checksums.json").read_text())["files"]) == {"model.safetensors",
                                                                                 "words/head.safetensors"}
    config = json.loads((folder / "words" / "words_config.json").read_text())
    assert config["recogniser"]["source"] == str(tiny_recogniser)
    assert config["text_encoder"]["source"] == str(tiny_text_encoder)
    assert config["training"]["typed_phrases"] == 7 and config["training"]["typed_only_labels"] == ["unheard"]
    clips = {clip.file_name: clip for clip in tone_dataset.clips}  # what was heard is kept in the dataset
    assert clips[fixed].transcript == "the high one" and clips[fixed].transcript_by == "user"
    heard = [clip for name, clip in clips.items() if name != fixed]
    assert all(clip.transcript_by == str(tiny_recogniser) for clip in heard)
    assert config["training"]["transcripts_written"] == len(heard) > 0
    stages = [e.stage for e in events if isinstance(e, StageEvent)]
    assert any(f"wrote what was heard in {len(heard)} clips" in stage for stage in stages)
    assert config["labels"] == ["high", "low", "mid", "unheard"]  # the sound model's, then the typed-only one
    metrics = json.loads((folder / "metrics.json").read_text())
    for key in ("sound", "words", "fused"):
        assert {"accuracy", "f1", "per_class", "confusion_matrix"} <= set(metrics[key])
    assert metrics["accuracy"] == metrics["fused"]["accuracy"]
    saved = read_record(folder)
    assert saved.has_words and saved.fused_accuracy == saved.accuracy
    assert saved.sound_accuracy == metrics["sound"]["accuracy"] and saved.words_accuracy is not None

    from transformers import pipeline

    from tests.helpers import tone

    ranking = pipeline("audio-classification", model=str(folder))({"raw": tone(700.0), "sampling_rate": 16000})
    assert {r["label"] for r in ranking} == {"high", "low", "mid"}  # the sound model has not heard "unheard"

    import numpy as np

    from intentdesk.core.inference.classifier import Classifier

    classifier = Classifier(folder, device="cpu", precision="fp32")
    assert classifier.labels == ["high", "low", "mid", "unheard"]
    result = classifier.classify_recording(tone(700.0), 16000)
    assert {p.label for p in result.ranking} == set(classifier.labels)
    assert sum(p.score for p in result.ranking) == pytest.approx(1.0, abs=1e-4)
    unsure = np.full((1, 3), 1 / 3, np.float32)  # a sound model that cannot tell: the words decide
    said = classifier.words.score([tone(700.0)], unsure, transcripts=["a label with no clips"])
    assert said.probabilities.shape == (1, 4) and said.probabilities[0].argmax() == 3


def test_sound_only_metrics_have_no_words_keys(tone_model):
    metrics = json.loads((tone_model / "metrics.json").read_text())
    assert not {"sound", "words", "fused"} & set(metrics)
    record = read_record(tone_model)
    assert not record.has_words and record.words_accuracy is None and record.fused_accuracy is None
    assert record.sound_accuracy == record.accuracy
    assert not (tone_model / "words").exists()


@pytest.mark.parametrize("which", ["asr", "text_encoder"])
def test_a_missing_words_model_fails_before_any_training(which, tone_dataset, tiny_wav2vec2, tiny_recogniser,
                                                         tiny_text_encoder, tmp_path):
    parts = {"asr": tiny_recogniser, "text_encoder": tiny_text_encoder, which: tmp_path / "missing-model"}
    events = []
    with pytest.raises(ModelError) as caught:
        train(tone_dataset.root, tmp_path / "model", words_settings(tiny_wav2vec2, parts["asr"],
                                                                    parts["text_encoder"]), events.append)
    message = str(caught.value)
    assert "missing-model" in message and "\n" not in message
    assert ("--asr" if which == "asr" else "--text-encoder") in message and "download it once" in message
    assert events == [] and not (tmp_path / "model").exists()


def test_cancel_while_transcribing_saves_the_sound_model_alone(tone_dataset, tiny_wav2vec2, tiny_recogniser,
                                                               tiny_text_encoder, tmp_path):
    import threading

    cancel, events = threading.Event(), []

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, StageEvent) and event.kind is Stage.TRANSCRIBING:
            cancel.set()  # the user presses Cancel as the words part starts

    record = train(tone_dataset.root, tmp_path / "model", words_settings(tiny_wav2vec2, tiny_recogniser,
                                                                         tiny_text_encoder), on_event, cancel)
    kinds = [e.kind for e in events if isinstance(e, StageEvent)]
    assert Stage.TRAINING_WORDS not in kinds  # stopped at the first batch of clips, not after all of them
    assert isinstance(events[-1], TrainFinished) and events[-1].outcome is Outcome.CANCELLED
    assert record.cancelled and record.path is not None
    assert (record.path / "model.safetensors").is_file() and not (record.path / "words").exists()
    assert not read_record(record.path).has_words


def test_typed_phrases_alone_train_a_words_only_model(tmp_path, tiny_wav2vec2, tiny_recogniser, tiny_text_encoder):
    """No recordings at all: the words part learns the intents from the phrases; the sound part says nothing."""
    import numpy as np

    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.inference.classifier import Classifier
    from tests.helpers import tone

    store = DatasetStore.create(tmp_path / "typed")
    phrases = {"balance": ["what is my balance", "how much money do i have", "my balance please"],
               "freeze": ["freeze my card", "block my card", "stop my card it was stolen"],
               "pay_bill": ["pay my bill", "pay the electricity bill", "i want to pay a bill"]}
    for label, texts in phrases.items():
        store.texts.add_phrases(label, texts)
    events = []
    record = train(store.root, tmp_path / "model", words_settings(tiny_wav2vec2, tiny_recogniser, tiny_text_encoder),
                   events.append)
    assert isinstance(events[-1], TrainFinished) and events[-1].outcome is Outcome.FINISHED
    config = json.loads((record.path / "config.json").read_text())
    assert config["intentdesk"]["sound"] == "untrained" and "uncertain_below" not in config["intentdesk"]
    words = json.loads((record.path / "words" / "words_config.json").read_text())
    assert words["training"]["phrases_kept_aside"] == 3 and words["training"]["typed_phrases"] == 6
    assert record.has_words and record.train_clips == 0 and record.words_accuracy is not None
    classifier = Classifier(record.path, device="cpu", precision="fp32")
    assert classifier.labels == ["balance", "freeze", "pay_bill"] and classifier.has_words
    sound = classifier.sound.scores_many([tone(500.0)], 1)
    assert np.allclose(sound, 1 / 3, atol=1e-6)  # the empty head: the same score for every intent
    said = classifier.words.score([tone(500.0)], sound, transcripts=["freeze my card"])
    assert said.probabilities[0].argmax() == 1  # the words decide
