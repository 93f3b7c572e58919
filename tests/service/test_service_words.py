"""The HTTP service and the Ray export with a words model (issue #14): the fused ranking, "transcript" and
"uncertain" in every answer ("transcript": null for a sound-only model)."""


import numpy as np
import pytest
from fastapi.testclient import TestClient

from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.words_part import ClipScore
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from tests.helpers import wav_bytes


@pytest.fixture(scope="module")
def words_classifier(saved_words_classifier):
    return Classifier(saved_words_classifier, precision="fp32")


def test_the_answer_has_the_fused_ranking_and_the_transcript(words_classifier):
    app = create_app(words_classifier, ServiceOptions(max_batch=4, max_wait_ms=20, max_seconds=5.0))
    body = wav_bytes(1.0, 300)
    with TestClient(app) as client:
        reply = client.post("/classify", content=body, headers={"content-type": "audio/wav"})
        health = client.get("/health").json()
        page = client.get("/").text
    assert '"transcript"' in page and "out of scope" in page  # the help page explains the words fields
    assert reply.status_code == 200
    answer = reply.json()
    wave = words_classifier.clips.read(body)[0]
    expected = words_classifier.score_waves([wave])
    assert answer["transcript"] == expected.transcripts[0] and isinstance(answer["transcript"], str)
    assert answer["uncertain"] == bool(expected.uncertain[0])
    ranked = words_classifier.answers.rank(expected.probabilities[0])
    assert [p["label"] for p in answer["ranking"]] == [p.label for p in ranked]
    assert [p["score"] for p in answer["ranking"]] == pytest.approx([p.score for p in ranked], abs=1e-5)
    assert health["words"] is True and health["words_problem"] is None


def test_a_sound_only_model_answers_transcript_null(saved_classifier):
    app = create_app(Classifier(saved_classifier, precision="fp32"), ServiceOptions(max_seconds=5.0))
    with TestClient(app) as client:
        answer = client.post("/classify", content=wav_bytes(0.8, 500)).json()
    assert answer["transcript"] is None and answer["uncertain"] is False and answer["ranking"]


def test_the_ray_export_copies_the_words_part_and_uses_it(saved_words_classifier, words_classifier, tmp_path):
    from fastapi import FastAPI, Request

    from intentdesk.service.ray_export import IntentDeployment, export_ray_app

    out = export_ray_app(saved_words_classifier, tmp_path / "ray_app", max_batch=4, max_seconds=5.0)
    assert (out / "model" / "words" / "words_config.json").is_file()
    deployment = IntentDeployment(str(out / "model"), max_seconds=5.0)
    assert deployment.classifier.has_words
    waves = [words_classifier.clips.read(wav_bytes(1.0, f))[0] for f in (300, 900)]
    rows = deployment.score_batch(waves)
    assert all(isinstance(row, ClipScore) and isinstance(row.transcript, str) for row in rows)
    expected = words_classifier.score_waves(waves)
    assert np.allclose(np.stack([np.asarray(row) for row in rows]), expected.probabilities, atol=1e-3)

    api = FastAPI()

    async def score(wave):
        return deployment.score_batch([wave])[0]

    @api.post("/classify")
    async def classify(request: Request):
        return await deployment.classify(request, None, score)

    with TestClient(api) as client:
        answer = client.post("/classify", content=wav_bytes(1.0, 900)).json()
    assert answer["transcript"] == rows[1].transcript


def test_the_ray_export_carries_local_recogniser_and_encoder_folders(saved_classifier, tiny_recogniser,
                                                                   tiny_text_encoder, tmp_path):
    """An export must run where the training machine's model folders do not exist."""
    import json
    import shutil

    from intentdesk.core.words.pipeline import WordsModel
    from intentdesk.service.ray_export import export_ray_app
    from tests.words_models import make_words_model

    recogniser, encoder = tmp_path / "asr-here", tmp_path / "encoder-here"
    shutil.copytree(tiny_recogniser, recogniser)
    shutil.copytree(tiny_text_encoder, encoder)
    model = make_words_model(saved_classifier, tmp_path / "model", recogniser, encoder)
    out = export_ray_app(model, tmp_path / "ray_app")
    shutil.rmtree(recogniser)
    shutil.rmtree(encoder)  # gone from "this machine": the export has its own copies
    config = json.loads((out / "model" / "words" / "words_config.json").read_text())
    assert config["recogniser"]["source"] == "recogniser" and config["text_encoder"]["source"] == "text_encoder"
    words = WordsModel.load(out / "model", cache_dir=False)
    assert words.transcriber.source == str((out / "model" / "words" / "recogniser").resolve())
    assert json.loads((model / "words" / "words_config.json").read_text())["recogniser"]["source"] == str(recogniser)
