"""`intentdesk transcribe` and `intentdesk train --words` (issue #14), as a user types them."""

from __future__ import annotations

import json

from intentdesk.core.data.store import DatasetStore
from tests.helpers import run_cli, tone


def test_transcribe_fills_the_transcript_column(tone_dataset, tiny_recogniser):
    fixed = tone_dataset.clips[0].file_name
    tone_dataset.texts.set_transcripts({fixed: "my words"}, "user")
    proc = run_cli("transcribe", tone_dataset.root, "--asr", tiny_recogniser)
    summary = json.loads(proc.stdout)
    assert summary["transcribed"] == len(tone_dataset) - 1 and summary["left"] == 0
    assert summary["corrected_by_user"] == 1 and summary["recogniser"] == str(tiny_recogniser)
    store = DatasetStore.open(tone_dataset.root)
    assert store.find(fixed).transcript == "my words"
    assert all(c.transcript_by for c in store.clips)


def test_train_with_words_end_to_end(tone_dataset, tiny_wav2vec2, tiny_recogniser, tiny_text_encoder, tmp_path):
    for label in ("high", "low", "mid"):
        tone_dataset.texts.add_phrases(label, [f"the {label} tone", f"{label} please"])
    out = tmp_path / "model"
    proc = run_cli("train", tone_dataset.root, "--base", tiny_wav2vec2, "--out", out, "--mode", "quick",
                   "--epochs", "1", "--batch-size", "4", "--words", "--asr", tiny_recogniser,
                   "--text-encoder", tiny_text_encoder)
    summary = json.loads(proc.stdout)
    assert summary["output_dir"] == str(out)
    assert {"sound_accuracy", "words_accuracy", "fused_accuracy"} <= set(summary)
    assert summary["accuracy"] == summary["fused_accuracy"]
    assert "Words: transcribing" in proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"sound", "words", "fused"} <= set(metrics)
    assert (out / "words" / "words_config.json").is_file()
    settings = json.loads((out / "run_settings.json").read_text())
    assert settings["words"] is True and settings["asr"] == str(tiny_recogniser)

    from transformers import pipeline

    ranking = pipeline("audio-classification", model=str(out))({"raw": tone(300.0), "sampling_rate": 16000})
    assert {r["label"] for r in ranking} == {"high", "low", "mid"}


def test_train_with_an_unavailable_recogniser_stops_before_training(tone_dataset, tiny_wav2vec2, tmp_path):
    out = tmp_path / "model"
    proc = run_cli("train", tone_dataset.root, "--base", tiny_wav2vec2, "--out", out, "--mode", "quick",
                   "--words", "--asr", "openai/no-such-recogniser-xyz", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "openai/no-such-recogniser-xyz" in lines[0] and "--asr" in lines[0] and "online" in lines[0]
    assert "classify by sound only" not in lines[0]  # the classify-time advice is not given to a trainer
    assert not out.exists()


def test_transcribe_with_an_unavailable_recogniser(tone_dataset):
    proc = run_cli("transcribe", tone_dataset.root, "--asr", "openai/no-such-recogniser-xyz", check=False)
    assert proc.returncode == 2 and "--asr" in proc.stderr and "no-such-recogniser-xyz" in proc.stderr
    assert "classify by sound only" not in proc.stderr
