"""Long clips: a classifier scores the start it can see, and says how much of the clip it used."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import tone


def test_long_clip_gets_a_note_and_is_scored_on_its_start(saved_classifier, tmp_path, monkeypatch):
    from intentdesk.core.inference import clips
    from intentdesk.core.inference.classifier import Classifier

    monkeypatch.setattr(clips, "LONGEST_INPUT_SECONDS", 1.0)
    start = tone(300, 1.0)
    long_clip, short_clip = tmp_path / "long.wav", tmp_path / "start.wav"
    sf.write(long_clip, np.concatenate([start, tone(900, 1.5, seed=3)]), 16000)
    sf.write(short_clip, start, 16000)
    classifier = Classifier(saved_classifier, precision="fp32")
    long_result, short_result = classifier.classify_files([long_clip, short_clip], batch_size=4)
    assert long_result.note == "only the first 1.0 s of 2.5 s were used"
    assert long_result.as_dict()["note"] == long_result.note and "note" not in short_result.as_dict()
    assert [p.score for p in long_result.ranking] == pytest.approx([p.score for p in short_result.ranking])


def test_whisper_window_is_reported(tiny_whisper, tmp_path, capsys):
    """Whisper sees a fixed window (30 s, or what training shortened it to): the rest of a longer
    clip was silently ignored; now the result says so, in --json and in text."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from intentdesk import cli
    from intentdesk.core.models import backbone

    model = AutoModelForAudioClassification.from_pretrained(tiny_whisper, num_labels=2)
    extractor = AutoFeatureExtractor.from_pretrained(tiny_whisper)
    backbone.fit_whisper_window(model, extractor, 1.0)
    folder = tmp_path / "whisper"
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    clip = tmp_path / "long.wav"
    sf.write(clip, tone(300, 3.0), 16000)
    assert cli.main(["classify", str(folder), str(clip), "--json", "--precision", "fp32"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["note"] == "only the first 1.0 s of 3.0 s were used"
    assert cli.main(["classify", str(folder), str(clip), "--precision", "fp32"]) == 0
    assert "(only the first 1.0 s of 3.0 s were used)" in capsys.readouterr().out
