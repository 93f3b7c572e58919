"""The classifier agrees with transformers' pipeline; the CLI chain import -> train -> evaluate -> classify."""

import json

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.audio import io as audio
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.trainer import train
from tests.helpers import run_cli, write_tone_folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_wav2vec2):
    from intentdesk.core.data.importers import import_into
    from intentdesk.core.data.store import DatasetStore

    root = tmp_path_factory.mktemp("trained")
    store = DatasetStore.create(root / "data")
    import_into(store, str(write_tone_folder(root / "src", per_label=6)))
    settings = TrainSettings(base_model=str(tiny_wav2vec2), epochs=3, learning_rate=3e-3, batch_size=4)
    return train(store.root, root / "model", settings).output_dir, store


def test_ranking_equals_transformers_pipeline(trained):
    from transformers import pipeline

    model_dir, store = trained
    classifier = Classifier(model_dir, precision="fp32")
    hf = pipeline("audio-classification", model=str(model_dir), device="cpu")
    for clip in store.clips[:6]:
        path = store.path_of(clip)
        ours = classifier.classify_files([path])[0].ranking
        wave, _ = audio.load_audio(path, 16000)
        theirs = hf(wave, top_k=len(classifier.labels))
        assert [p.label for p in ours] == [p["label"] for p in theirs]
        assert np.allclose([p.score for p in ours], [p["score"] for p in theirs], atol=1e-5)


def test_fast_path_agrees_with_the_pipeline(trained):
    """The default (fastest format for this CPU) keeps top-1 and moves no score by more than 0.03."""
    from transformers import pipeline

    model_dir, store = trained
    classifier = Classifier(model_dir)
    hf = pipeline("audio-classification", model=str(model_dir), device="cpu")
    for clip in store.clips[:6]:
        wave, _ = audio.load_audio(store.path_of(clip), 16000)
        ours = {p.label: p.score for p in classifier.answers.rank(classifier.sound.scores([wave])[0])}
        theirs = hf(wave, top_k=len(classifier.labels))
        if theirs[0]["score"] - theirs[1]["score"] > 0.01:  # a near-tie may flip under any rounding
            assert max(ours, key=ours.get) == theirs[0]["label"]
        assert max(abs(ours[p["label"]] - p["score"]) for p in theirs) <= 0.03


def test_batch_of_files_reports_bad_ones(trained, tmp_path):
    model_dir, store = trained
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nope")
    paths = [store.path_of(c) for c in store.clips[:3]] + [bad]
    results = Classifier(model_dir).classify_files(paths, top_k=2, batch_size=4)
    assert [r.error is None for r in results] == [True, True, True, False]
    assert "bad.wav" in results[3].error
    assert all(len(r.ranking) == 2 for r in results[:3])


def test_cli_import_train_evaluate_classify(tmp_path, tiny_wav2vec2):
    src = write_tone_folder(tmp_path / "src", per_label=8)
    data, model = tmp_path / "data", tmp_path / "model"
    imported = json.loads(run_cli("import", src, data).stdout)
    assert imported["added"] == 24 and imported["labels"] == {"high": 8, "low": 8, "mid": 8}
    proc = run_cli("train", data, "--base", tiny_wav2vec2, "--out", model, "--mode", "full", "--epochs", "8",
                   "--learning-rate", "3e-3", "--batch-size", "4")
    summary = json.loads(proc.stdout)
    assert summary["output_dir"] == str(model.resolve()) and summary["accuracy"] >= 0.9
    assert "epoch 8" in proc.stderr and "Loading weights" not in proc.stderr
    # Words are on by default only when their models are here; offline without them, the run says why not.
    assert "[Learning from the sound only: the speech recogniser openai/whisper-tiny.en is not on this" in proc.stderr
    metrics = json.loads(run_cli("evaluate", model, data, "--split", "all", "--json").stdout)
    assert {"accuracy", "precision", "recall", "f1", "per_class", "confusion_matrix", "labels"} <= set(metrics)
    assert set(metrics["precision"]) == {"micro", "macro", "weighted"}
    assert metrics["accuracy"] >= 0.9
    files = [src / "low" / "low0.wav", src / "high" / "high1.wav"]
    results = json.loads(run_cli("classify", model, *files, "--top-k", "2", "--json").stdout)
    assert [r["ranking"][0]["label"] for r in results] == ["low", "high"]
    assert all(len(r["ranking"]) == 2 and r["latency_ms"] > 0 for r in results)


def test_cli_bad_input_exit_code_2_and_one_line(tmp_path, tone_dataset):
    before = (tone_dataset.root / "metadata.csv").read_bytes()
    proc = run_cli("train", tone_dataset.root, "--base", tmp_path / "missing", "--out", tmp_path / "m", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "model folder not found" in proc.stderr
    proc = run_cli("classify", tmp_path / "nomodel", tmp_path / "x.wav", check=False)
    assert proc.returncode == 2 and "model folder not found" in proc.stderr
    proc = run_cli("import", tmp_path / "nothing-here", tone_dataset.root, check=False)
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    assert (tone_dataset.root / "metadata.csv").read_bytes() == before


def test_cli_classify_corrupt_file(tmp_path, trained):
    model_dir, _ = trained
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFFxxxx")
    proc = run_cli("classify", model_dir, bad, "--json", check=False)
    assert proc.returncode == 2 and "bad.wav" in proc.stderr


def test_cli_one_class_dataset(tmp_path, tiny_wav2vec2):
    src = tmp_path / "src" / "only"
    src.mkdir(parents=True)
    for n in range(3):
        sf.write(src / f"{n}.wav", np.sin(np.arange(8000) * 0.05 * (n + 1)).astype(np.float32) * 0.5, 16000)
    run_cli("import", tmp_path / "src", tmp_path / "data")
    proc = run_cli("train", tmp_path / "data", "--base", tiny_wav2vec2, "--out", tmp_path / "m", check=False)
    assert proc.returncode == 2 and "at least 2 are needed" in proc.stderr


def test_screenshot_writes_only_the_png(tmp_path):
    data = tmp_path / "data"
    run_cli("import", write_tone_folder(tmp_path / "src", per_label=2), data)
    shots = tmp_path / "shots"
    run_cli("screenshot", "--tab", "label", shots / "label.png", "--dataset", data, separate_process=True)  # Qt
    assert [p.name for p in shots.iterdir()] == ["label.png"]  # no settings file left beside it
    assert (shots / "label.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_says_when_it_adopted_audio_that_metadata_did_not_list(tmp_path, trained):
    """Rows removed from metadata.csv by hand come back on open (the files are still in clips/<label>/): the
    command says so before it runs, and a second run has nothing to say."""
    import shutil

    model, store = trained
    data = tmp_path / "data"
    shutil.copytree(store.root, data)
    lines = (data / "metadata.csv").read_text().splitlines(keepends=True)
    (data / "metadata.csv").write_text("".join(lines[:-2]))  # two rows gone, their files still there
    first = run_cli("evaluate", model, data, "--split", "all", "--json")
    assert f"note: {data}: metadata.csv did not list 2 audio file(s) in clips/<label>/" in first.stderr
    assert json.loads(first.stdout)["count"] == len(lines) - 1
    again = run_cli("evaluate", model, data, "--split", "all", "--json")
    assert "note:" not in again.stderr
