"""A model folder with a words part (issue #14): fused rankings and transcripts from every inference path,
sound only (with a clear reason) when the words part cannot be loaded, and no change for sound-only models."""

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import Recorder
from intentdesk.core.audio.replay import replay_factory
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.evaluation import evaluate_model
from intentdesk.core.inference.live import LiveSession
from intentdesk.core.inference.results import CSV_COLUMNS, WORDS_COLUMNS, write_results_csv
from intentdesk.core.words import WordsModel
from tests.helpers import tone, wait_until, write_tone_folder, write_two_utterances
from tests.words_models import make_words_model


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for n, freq in enumerate((300, 700, 1400)):
        paths.append(folder / f"clip{n}.wav")
        sf.write(paths[-1], tone(freq, 0.5 + 0.2 * n, seed=n), RATE)
    return paths


def test_a_words_model_ranks_by_the_fused_scores_and_says_what_it_heard(saved_words_classifier, clips):
    classifier = Classifier(saved_words_classifier, precision="fp32")
    assert classifier.has_words and classifier.words_problem is None
    info = classifier.info()
    assert info["words"] and info["recogniser"] and info["text_encoder"]
    results = classifier.classify_files(clips + [clips[0].parent / "missing.wav"], batch_size=8)
    assert results[-1].error and results[-1].transcript is None
    waves = [classifier.clips.read(path)[0] for path in clips]
    sound = classifier.sound.scores_many(waves)
    expected = WordsModel.load(saved_words_classifier, classifier.labels).score(waves, sound)
    for result, fused, heard, flag in zip(results, expected.probabilities, expected.transcripts, expected.uncertain):
        assert result.transcript == heard and isinstance(heard, str) and result.uncertain == bool(flag)
        assert [p.label for p in result.ranking] == [classifier.labels[i] for i in np.argsort(-fused, kind="stable")]
        assert np.allclose([p.score for p in result.ranking], np.sort(fused)[::-1], atol=1e-6)
        answer = result.as_dict()
        assert answer["transcript"] == heard and answer["uncertain"] == bool(flag)
    assert not np.allclose(expected.probabilities, sound)  # the words part changed the scores


def test_the_sound_part_stays_an_ordinary_model(saved_words_classifier, saved_classifier, clips):
    """The words folder does not change the sound model's own scores (what `pipeline(...)` gives)."""
    with_words = Classifier(saved_words_classifier, precision="fp32")
    sound_only = Classifier(saved_classifier, precision="fp32")
    waves = [sound_only.clips.read(path)[0] for path in clips]
    assert np.allclose(with_words.sound.scores(waves), sound_only.sound.scores(waves), atol=1e-6)
    scored = with_words.score_waves(waves)
    assert np.allclose(scored.sound, sound_only.sound.scores_many(waves), atol=1e-6)
    assert scored.words.shape == scored.sound.shape and len(scored.transcripts) == len(waves)


def test_a_recording_gets_its_transcript(saved_words_classifier):
    classifier = Classifier(saved_words_classifier, precision="fp32")
    samples = tone(440, 0.8, 44100)
    result = classifier.classify_recording(samples, 44100)
    assert isinstance(result.transcript, str) and result.error is None


def test_a_missing_recogniser_means_sound_only_with_a_reason(saved_classifier, tiny_recogniser, tiny_text_encoder,
                                                            tmp_path, clips):
    recogniser = tmp_path / "my-recogniser"
    shutil.copytree(tiny_recogniser, recogniser)
    model = make_words_model(saved_classifier, tmp_path / "model", recogniser, tiny_text_encoder)
    shutil.rmtree(recogniser)
    classifier = Classifier(model, precision="fp32")
    assert not classifier.has_words
    problem = classifier.words_problem
    assert "recogniser" in problem and str(recogniser) in problem and "sound only" in problem
    assert classifier.info()["words_problem"] == problem
    sound_only = Classifier(saved_classifier, precision="fp32")
    for ours, theirs in zip(classifier.classify_files(clips), sound_only.classify_files(clips)):
        assert ours.transcript is None and ours.as_dict()["transcript"] is None
        assert [(p.label, round(p.score, 5)) for p in ours.ranking] == [(p.label, round(p.score, 5))
                                                                          for p in theirs.ranking]


def test_a_missing_text_encoder_is_named(saved_classifier, tiny_recogniser, tiny_text_encoder, tmp_path):
    encoder = tmp_path / "my-encoder"
    shutil.copytree(tiny_text_encoder, encoder)
    model = make_words_model(saved_classifier, tmp_path / "model", tiny_recogniser, encoder)
    shutil.rmtree(encoder)
    classifier = Classifier(model, precision="fp32")
    assert not classifier.has_words and "text encoder" in classifier.words_problem
    assert str(encoder) in classifier.words_problem


def test_a_sound_only_model_answers_as_before(saved_classifier, clips, tmp_path):
    classifier = Classifier(saved_classifier, precision="fp32")
    assert not classifier.has_words and classifier.words_problem is None
    result = classifier.classify_files([clips[0]])[0]
    assert result.transcript is None and result.as_dict()["transcript"] is None
    assert result.as_dict()["uncertain"] is False
    with write_results_csv([result], tmp_path / "out.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == list(CSV_COLUMNS)


def test_the_csv_export_has_the_transcript(saved_words_classifier, clips, tmp_path):
    results = Classifier(saved_words_classifier, precision="fp32").classify_files(clips)
    with write_results_csv(results, tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_COLUMNS + WORDS_COLUMNS)
    assert [row[len(CSV_COLUMNS)] for row in rows[1:]] == [r.transcript for r in results]


def test_live_results_carry_the_transcript(saved_words_classifier, tmp_path):
    microphone = Recorder(RATE, None, replay_factory(write_two_utterances(tmp_path / "mic.wav"), speed=4.0,
                                                     loop=False))
    heard = []
    session = LiveSession(Classifier(saved_words_classifier, precision="fp32"), microphone, heard.append)
    try:
        session.start()
        microphone.open()
        wait_until(lambda: len(heard) >= 2, what="two live results")
        assert session.stop()
    finally:
        microphone.close()
    assert len(heard) == 2 and all(r.error is None and isinstance(r.transcript, str) for r in heard)


def test_evaluate_reports_sound_words_and_fused(saved_words_classifier, tmp_path):
    from intentdesk.core.data.importers import import_into
    from intentdesk.core.data.store import DatasetStore

    labels = json.loads((saved_words_classifier / "config.json").read_text())["id2label"].values()
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=2,
                                             labels=dict(zip(labels, (300.0, 700.0, 1400.0))))))
    metrics = evaluate_model(saved_words_classifier, store.root, split="all", precision="fp32")
    for key in ("sound", "words", "fused"):
        assert {"accuracy", "f1", "per_class"} <= set(metrics[key])
    assert metrics["accuracy"] == metrics["fused"]["accuracy"] and "words_problem" not in metrics
