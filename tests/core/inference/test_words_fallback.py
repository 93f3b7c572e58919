"""By sound only, and said (issue 26): a words part that is refused when it loads, or that fails (or gives
scores that are not numbers) at run time, leaves the sound ranking as the answer with `words_problem`
saying why; scores that are not numbers for ordinary audio blame the model, not the audio."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.errors import AudioError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.words.pipeline import WordsResult
from tests.helpers import RATE, tone


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths = [folder / f"c{n}.wav" for n in range(2)]
    for n, path in enumerate(paths):
        sf.write(path, tone(300 + 400 * n, 0.7, RATE, seed=n), RATE)
    return paths


@pytest.fixture(scope="module")
def by_sound(saved_classifier, clips):
    return [[(p.label, round(p.score, 5)) for p in r.ranking]
            for r in Classifier(saved_classifier, precision="fp32").classify_files(clips)]


def ranking(result):
    return [(p.label, round(p.score, 5)) for p in result.ranking]


def refused_words_model(source, folder):
    """A copy of a words model whose words part is refused when it loads (a temperature of 0)."""
    shutil.copytree(source, folder)
    path = folder / "words" / "words_config.json"
    config = json.loads(path.read_text())
    config["fusion"]["t_words"] = 0
    path.write_text(json.dumps(config))
    return folder


def test_every_answer_of_a_model_whose_words_part_is_refused_says_so(saved_words_classifier, clips, by_sound,
                                                                     tmp_path):
    classifier = Classifier(refused_words_model(saved_words_classifier, tmp_path / "m"), precision="fp32")
    assert not classifier.has_words and "fusion.t_words" in classifier.words_problem
    results = classifier.classify_files(clips, batch_size=8)
    assert [ranking(r) for r in results] == by_sound
    for result in results:
        assert result.words_problem == classifier.words_problem and result.transcript is None
        assert result.as_dict()["words_problem"] == classifier.words_problem
    recording = classifier.classify_recording(tone(440, 0.8, 44100), 44100)
    assert recording.words_problem == classifier.words_problem and recording.ranking


def test_a_recogniser_that_fails_at_run_time_leaves_the_sound_ranking_with_the_reason(saved_words_classifier, clips,
                                                                                       by_sound, monkeypatch):
    classifier = Classifier(saved_words_classifier, precision="fp32")
    assert classifier.has_words

    def broken(waves, progress=None):
        raise RuntimeError("the recogniser fell over")

    monkeypatch.setattr(classifier.words.transcriber, "transcribe", broken)
    results = classifier.classify_files(clips, batch_size=8)
    assert [ranking(r) for r in results] == by_sound
    for result in results:
        assert result.error is None and result.transcript is None
        problem = result.words_problem
        assert "words part failed" in problem and "sound only" in problem and "the recogniser fell over" in problem
        assert "RuntimeError" in problem and "train the model again" in problem  # named as unexpected, and what to do
        assert result.as_dict()["words_problem"] == problem and "note" not in result.as_dict()


def test_words_scores_that_are_not_numbers_at_run_time_leave_the_sound_ranking(saved_words_classifier, clips,
                                                                               by_sound, monkeypatch):
    classifier = Classifier(saved_words_classifier, precision="fp32")

    def not_numbers(waves, sound, transcripts=None, progress=None):
        nan = np.full_like(np.asarray(sound), np.nan)
        return WordsResult(nan, nan, np.zeros(len(waves)), np.zeros(len(waves), bool), ["x"] * len(waves))

    monkeypatch.setattr(classifier.words, "score", not_numbers)
    results = classifier.classify_files(clips, batch_size=8)
    assert [ranking(r) for r in results] == by_sound  # not "no usable scores for this audio"
    assert all("not numbers" in r.words_problem and "sound only" in r.words_problem for r in results)


def test_scores_that_are_not_numbers_for_ordinary_audio_blame_the_model(saved_classifier, clips):
    import torch

    classifier = Classifier(saved_classifier, precision="fp32")
    with torch.no_grad():
        classifier.sound.model.classifier.weight.fill_(float("nan"))  # a model file whose weights are not numbers
    result = classifier.classify_files([clips[0]])[0]
    assert result.ranking is None and "no usable scores" in result.error
    assert "model folder is damaged" in result.error and "between -1 and 1" not in result.error
    with pytest.raises(AudioError, match="model folder is damaged"):
        classifier.classify_recording(tone(440, 0.8), RATE)
