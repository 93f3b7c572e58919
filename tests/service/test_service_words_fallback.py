"""The service with a words part that is refused or fails (issue 26): 200 with the sound ranking and
"words_problem" saying why (it was a 500, or a silent sound-only answer), and the help page says so."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient

from intentdesk.core.inference.classifier import Classifier
from intentdesk.service.app import create_app
from intentdesk.service.options import ServiceOptions
from tests.helpers import wav_bytes


def ask(classifier: Classifier) -> tuple[int, dict, str]:
    app = create_app(classifier, ServiceOptions(max_batch=4, max_wait_ms=20, max_seconds=5.0))
    with TestClient(app) as client:
        reply = client.post("/classify", content=wav_bytes(1.0, 300), headers={"content-type": "audio/wav"})
        return reply.status_code, reply.json(), client.get("/").text


@pytest.fixture(scope="module")
def by_sound(saved_classifier):
    _, answer, _ = ask(Classifier(saved_classifier, precision="fp32"))
    return [(p["label"], round(p["score"], 5)) for p in answer["ranking"]]


def test_a_refused_words_part_answers_by_sound_and_says_why(saved_words_classifier, by_sound, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(saved_words_classifier, model)
    path = model / "words" / "words_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "labels": 5}))
    classifier = Classifier(model, precision="fp32")
    status, answer, page = ask(classifier)
    assert status == 200 and [(p["label"], round(p["score"], 5)) for p in answer["ranking"]] == by_sound
    assert answer["words_problem"] == classifier.words_problem and "'labels'" in answer["words_problem"]
    assert answer["transcript"] is None and "note" not in answer
    assert '"words_problem"' in page and "could not be loaded" in page


def test_a_words_part_failing_at_run_time_is_a_200_with_the_reason(saved_words_classifier, by_sound, monkeypatch):
    classifier = Classifier(saved_words_classifier, precision="fp32")

    def broken(waves, progress=None):
        raise RuntimeError("out of memory in the recogniser")

    monkeypatch.setattr(classifier.words.transcriber, "transcribe", broken)
    status, answer, page = ask(classifier)
    assert status == 200 and [(p["label"], round(p["score"], 5)) for p in answer["ranking"]] == by_sound
    assert "words part failed" in answer["words_problem"] and "out of memory" in answer["words_problem"]
    assert '"words_problem"' in page  # the help page explains the field
