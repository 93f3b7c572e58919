"""`intentdesk classify` and `evaluate` on a words model (issue #14): the transcript under each ranking,
`--json` with "transcript", the three accuracies, and a clear warning when the words part cannot load."""

import json
import shutil

import soundfile as sf

from tests.helpers import RATE, run_cli, tone, write_tone_folder
from tests.words_models import make_words_model


def write_clips(folder):
    folder.mkdir()
    paths = []
    for n, freq in enumerate((300, 900)):
        paths.append(folder / f"c{n}.wav")
        sf.write(paths[-1], tone(freq, 0.7, seed=n), RATE)
    return [str(p) for p in paths]


def test_classify_shows_the_transcript(saved_words_classifier, tmp_path):
    files = write_clips(tmp_path / "clips")
    answers = json.loads(run_cli("classify", saved_words_classifier, *files, "--json", "--precision", "fp32").stdout)
    assert all(isinstance(a["transcript"], str) and "uncertain" in a for a in answers)
    lines = run_cli("classify", saved_words_classifier, *files, "--precision", "fp32").stdout.splitlines()
    assert len(lines) == 4 and lines[1].startswith("  heard: ") and lines[3].startswith("  heard: ")


def test_classify_sound_only_has_transcript_null(saved_classifier, tmp_path):
    files = write_clips(tmp_path / "clips")
    answers = json.loads(run_cli("classify", saved_classifier, *files, "--json", "--precision", "fp32").stdout)
    assert all(a["transcript"] is None for a in answers)


def test_a_missing_recogniser_warns_and_classifies_by_sound(saved_classifier, tiny_recogniser, tiny_text_encoder,
                                                           tmp_path):
    recogniser = tmp_path / "gone-recogniser"
    shutil.copytree(tiny_recogniser, recogniser)
    model = make_words_model(saved_classifier, tmp_path / "model", recogniser, tiny_text_encoder)
    shutil.rmtree(recogniser)
    files = write_clips(tmp_path / "clips")
    proc = run_cli("classify", model, *files, "--json", "--precision", "fp32")
    assert all(a["transcript"] is None for a in json.loads(proc.stdout))
    assert "warning:" in proc.stderr and "sound only" in proc.stderr and str(recogniser) in proc.stderr


def test_evaluate_prints_sound_words_and_fused(saved_words_classifier, tmp_path):
    labels = json.loads((saved_words_classifier / "config.json").read_text())["id2label"].values()
    source = write_tone_folder(tmp_path / "src", per_label=2, labels=dict(zip(labels, (300.0, 700.0, 1400.0))))
    run_cli("import", source, tmp_path / "data")
    out = run_cli("evaluate", saved_words_classifier, tmp_path / "data", "--split", "all", "--precision", "fp32").stdout
    assert "sound " in out and "words " in out and "fused " in out
    metrics = json.loads(run_cli("evaluate", saved_words_classifier, tmp_path / "data", "--split", "all", "--json",
                                 "--precision", "fp32").stdout)
    assert {"sound", "words", "fused"} <= set(metrics) and metrics["accuracy"] == metrics["fused"]["accuracy"]
