"""Every file of a sound model folder is untrusted input (issue 26): people download model folders and pass
them on. Each tampered entry either still works or fails with one line naming the file, the entry and what
to do; never a bare Python message, never a traceback, never a model built from sizes the weights do not hold.

The cases run through what a user runs: loading a `Classifier` and classifying a clip, `intentdesk classify`
and `evaluate`, the runs list, and training on a model folder as the base.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from intentdesk import cli
from intentdesk.core import runs
from intentdesk.core.errors import IntentDeskError, ModelError
from tests.helpers import tone

NESTED = "[" * 100_000  # json.loads raises RecursionError on it
DEEP = '{"a": ' * 40 + "1" + "}" * 40  # parses, but nests deeper than any model file


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, tone(300, 0.5), 16000)
    return path


def tampered(source: Path, folder: Path, file: str, entry: str | None = None, value=None,
             raw: str | bytes | None = None) -> Path:
    """A copy of the model folder `source` with one entry of `file` set to `value` (or the file replaced by `raw`)."""
    shutil.copytree(source, folder)
    path = folder / file
    if raw is not None:
        path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
        return folder
    settings = json.loads(path.read_text()) if path.is_file() else {}
    settings[entry] = value
    path.write_text(json.dumps(settings))
    return folder


def load_and_classify(folder: Path, clip: Path):
    """What the Classify tab and the service do with a model folder: load it, classify one clip."""
    from intentdesk.core.inference.classifier import Classifier

    classifier = Classifier(folder, precision="fp32")
    return classifier, classifier.classify_files([clip])[0]


def assert_refused_well(error: IntentDeskError, *expected: str) -> None:
    message = str(error)
    assert len(message.splitlines()) == 1, message
    for part in expected:
        assert part in message, message


@pytest.fixture
def no_model_built(monkeypatch):
    """Loading must be refused before transformers builds (and allocates) any model."""
    from transformers import AutoModelForAudioClassification

    def refuse(*_args, **_kwargs):
        raise AssertionError("a model was built from a config that should have been refused first")

    monkeypatch.setattr(AutoModelForAudioClassification, "from_pretrained", refuse)


# ------------------------------------------------------------------ config.json
REFUSED_CONFIG = [
    # id2label: the names people read
    ("id2label", 5, "id2label must map the ids"),
    ("id2label", "abc", "id2label must map the ids"),
    ("id2label", {"0": "a", "1": "b", "01": "c"}, "not '01'"),
    ("id2label", {"0": "a", "1": "b", " 2": "c"}, "not ' 2'"),
    ("id2label", {"0": "a", "1": "b", "3": "c"}, "no label for id 2"),
    ("id2label", {"0": "a", "1": "b", "2": "a"}, "'a' twice"),
    ("id2label", {"0": "a", "1": "", "2": "c"}, "id 1 has '', which is empty"),
    ("id2label", {"0": "a", "1": " b", "2": "c"}, "starts or ends with a space"),
    ("id2label", {"0": "a", "1": "b\x1b[31m", "2": "c"}, "control character"),
    ("id2label", {"0": "a", "1": "b\u202e", "2": "c"}, "control character"),
    ("id2label", {"0": "a", "1": "b" * 201, "2": "c"}, "longer than 200 characters"),
    ("id2label", {"0": "a", "1": ["b"], "2": "c"}, "is not text"),
    ("id2label", {str(i): f"l{i}" for i in range(10_001)}, "at most 10,000"),
    # counts and sizes: bounded before anything is built
    ("num_labels", 5, "num_labels is 5, but id2label names 3"),
    ("num_labels", "abc", "num_labels is \"abc\""),
    ("num_labels", [1], "num_labels is [1]"),
    ("num_labels", 3.0, "num_labels is 3.0"),
    ("num_labels", 10**30, "num_labels is 1000000000000000000000000000000, but it must be a whole number from 1"),
    ("num_hidden_layers", 10**30, "num_hidden_layers is 1000000000000000000000000000000, but it must be a whole "
                                  "number from 0 to 256"),
    ("num_hidden_layers", -1, "num_hidden_layers is -1"),
    ("num_attention_heads", 0, "num_attention_heads is 0, but it must be a whole number from 1"),
    ("num_attention_heads", -1, "num_attention_heads is -1"),
    ("hidden_size", -1, "hidden_size is -1"),
    ("hidden_size", 10**30, "hidden_size is 1000000000000000000000000000000"),
    ("intermediate_size", 10**9, "intermediate_size is 1000000000"),
    ("conv_dim", [32, -1, 32], "conv_dim is [32, -1, 32]"),
    ("conv_kernel", [10, 8, 10**30], "conv_kernel is"),
    # sizes within bounds, but more than the weights hold: refused before transformers makes up the rest
    ("intermediate_size", 100_000, "describes a model of"),
    ("hidden_size", 4096, "describes a model of"),
    ("classifier_proj_size", 1_000_000, "describes a model of"),
    # types transformers checks: its reason, on one line
    ("hidden_size", "abc", "hidden_size"),
    ("hidden_size", None, "hidden_size"),
    ("hidden_size", 1e308, "hidden_size"),
    ("num_hidden_layers", [1], "num_hidden_layers"),
    ("conv_dim", 5, "conv_dim"),
    ("conv_dim", [1], "conv_dim"),
    ("layer_norm_eps", "abc", "layer_norm_eps"),
    ("model_type", 5, "model_type is 5"),
    ("model_type", [1], "model_type is [1]"),
    ("model_type", "abc", "model type `abc`"),
]


@pytest.mark.parametrize(("entry", "value", "expected"), REFUSED_CONFIG,
                         ids=[f"{e}={json.dumps(v)[:30]}" for e, v, _ in REFUSED_CONFIG])
def test_a_tampered_config_entry_is_refused_before_any_model_is_built(saved_classifier, clip, tmp_path, no_model_built,
                                                                      entry, value, expected):
    folder = tampered(saved_classifier, tmp_path / "m", "config.json", entry, value)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder), "config.json", expected, "train again")


@pytest.mark.parametrize(("entry", "value", "expected"), [
    ("num_hidden_layers", 3, "not in its weights"),  # transformers would make up a layer: noise
    ("num_hidden_layers", 1, "which the model has no place for"),  # a layer of the weights would be dropped
    ("num_attention_heads", 5, "divisible"),
    ("intermediate_size", 5, "do not fit config.json"),
    ("hidden_act", "abc", "abc"),
])
def test_a_config_that_builds_but_does_not_fit_its_weights_is_refused(saved_classifier, clip, tmp_path, entry, value,
                                                                      expected):
    folder = tampered(saved_classifier, tmp_path / "m", "config.json", entry, value)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder), expected)


@pytest.mark.parametrize(("entry", "value"), [
    ("label2id", 5), ("label2id", {"x": "y"}), ("label2id", None),  # not used: id2label names the intents
    ("intentdesk", [1]), ("intentdesk", "abc"), ("intentdesk", {"base_model": ["x"], "mode": 5}),
    ("architectures", ["Nothing"]), ("num_labels", 3),
])
def test_entries_intentdesk_does_not_rely_on_still_classify(saved_classifier, clip, tmp_path, entry, value):
    folder = tampered(saved_classifier, tmp_path / "m", "config.json", entry, value)
    classifier, result = load_and_classify(folder, clip)
    assert result.error is None and sorted(p.label for p in result.ranking) == ["LABEL_0", "LABEL_1", "LABEL_2"]
    info = classifier.info()
    assert info["base_model"] == "wav2vec2" and info["mode"] is None


# ------------------------------------------------------------------ any JSON file of the folder, replaced whole
RAW = [
    ("nested", NESTED, "nested deeper than 32 levels"),
    ("deep", DEEP, "nested deeper than 32 levels"),
    ("not-utf8", b'{"a": "\xff\xfe"}', "not UTF-8 text (byte 7)"),
    ("huge", " " * (17 << 20) + "{}", "over the 16 MB such a file may be"),
    ("list", "[]", "not a JSON object"),
    ("number", "5", "not a JSON object"),
    ("twice", '{"sampling_rate": 16000, "sampling_rate": 8000}', "names the key 'sampling_rate' twice"),
    ("nan", '{"padding_value": NaN}', "'padding_value' is NaN, not a number"),
    ("digits", '{"feature_size": ' + "1" * 5000 + "}", "a number with too many digits"),
    ("cut", '{"feature_size": 1, "samp', "not valid JSON (line 1, column 21: Unterminated string"),
]


@pytest.mark.parametrize("file", ["config.json", "preprocessor_config.json"])
@pytest.mark.parametrize(("raw", "expected"), [case[1:] for case in RAW], ids=[case[0] for case in RAW])
def test_a_model_json_file_that_is_not_one_is_named(saved_classifier, clip, tmp_path, file, raw, expected):
    folder = tampered(saved_classifier, tmp_path / "m", file, raw=raw)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder / file), "damaged", expected)


# ------------------------------------------------------------------ preprocessor_config.json
REFUSED_FEATURES = [
    ("sampling_rate", "abc", "a whole number from 1,000 to 384,000"),
    ("sampling_rate", 0, "sampling_rate is 0"),
    ("sampling_rate", -1, "sampling_rate is -1"),
    ("sampling_rate", 10**30, "sampling_rate is 1000000000000000000000000000000"),
    ("sampling_rate", 1e308, "sampling_rate is 1e+308"),
    ("sampling_rate", 16000.5, "sampling_rate is 16000.5"),
    ("sampling_rate", None, "sampling_rate is null"),
    ("sampling_rate", True, "sampling_rate is true"),
    ("feature_size", 0, "feature_size is 0"),
    ("feature_size", [1], "feature_size is [1]"),
    ("do_normalize", "abc", "do_normalize is \"abc\", but it must be true or false"),
    ("do_normalize", 5, "do_normalize is 5"),
    ("return_attention_mask", "yes", "return_attention_mask is \"yes\""),
    ("padding_value", "abc", "padding_value is \"abc\", but it must be a number"),
    ("padding_value", 1e308, "padding_value is 1e+308"),
    ("model_input_names", 5, "model_input_names is 5, but it must be a list of 1 to 8 input names"),
    ("model_input_names", [], "model_input_names is []"),
    ("feature_extractor_type", 5, "feature_extractor_type is 5"),
]


@pytest.mark.parametrize(("entry", "value", "expected"), REFUSED_FEATURES,
                         ids=[f"{e}={json.dumps(v)[:30]}" for e, v, _ in REFUSED_FEATURES])
def test_a_tampered_feature_extractor_entry_is_refused(saved_classifier, clip, tmp_path, no_model_built, entry, value,
                                                       expected):
    folder = tampered(saved_classifier, tmp_path / "m", "preprocessor_config.json", entry, value)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder / "preprocessor_config.json"), expected, "train again")


@pytest.mark.parametrize(("entry", "value", "expected"), [
    ("chunk_length", 10**9, "chunk_length is 1000000000, but it must be a whole number from 1 to 600"),
    ("n_samples", -1, "n_samples is -1"),
    ("hop_length", 0, "hop_length is 0"),
    ("chunk_length", 10, "gives 1000 frames a clip, but the model in config.json takes 3000"),
])
def test_a_whisper_window_that_does_not_fit_its_model_is_refused(saved_whisper_classifier, clip, tmp_path, entry,
                                                                 value, expected):
    folder = tampered(saved_whisper_classifier, tmp_path / "m", "preprocessor_config.json", entry, value)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder), "preprocessor_config.json", expected)


def test_an_input_the_model_does_not_take_is_refused_at_load(saved_classifier, clip, tmp_path):
    folder = tampered(saved_classifier, tmp_path / "m", "preprocessor_config.json", "model_input_names",
                      ["input_features"])
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, "preprocessor_config.json model_input_names gives the model 'input_features'")


def test_a_sampling_rate_within_bounds_still_classifies(saved_classifier, clip, tmp_path):
    """An unusual but possible rate is not refused: the clip is resampled to it."""
    folder = tampered(saved_classifier, tmp_path / "m", "preprocessor_config.json", "sampling_rate", 8000)
    classifier, result = load_and_classify(folder, clip)
    assert classifier.rate == 8000 and result.error is None and len(result.ranking) == 3


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize(("header", "expected"), [
    (NESTED, "nested deeper than 32 levels"),
    ("[]", "not a table of tensors"),
    ('{"w": {"dtype": "F32", "shape": [1], "data_offsets": ["a", 4]}}', "without its place"),
    ('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}', "without its place"),
    ('{"w": 5}', "without its place"),
])
def test_a_damaged_weights_header_is_named(saved_classifier, clip, tmp_path, header, expected):
    folder = tmp_path / "m"
    shutil.copytree(saved_classifier, folder)
    data = header.encode()
    (folder / "model.safetensors").write_bytes(len(data).to_bytes(8, "little") + data + b"\0" * 16)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder / "model.safetensors"), expected)


# ------------------------------------------------------------------ metrics.json and run_settings.json
@pytest.mark.parametrize("raw", [NESTED, DEEP, b"\xff\xfe", " " * (17 << 20), "[]", '{"accuracy": "abc"}',
                                 '{"labels": 5, "history": [[1]], "f1": {"macro": "x"}, "step_losses": "abc"}',
                                 '{"accuracy": NaN}'],
                         ids=["nested", "deep", "not-utf8", "huge", "list", "text-accuracy", "wrong-types", "nan"])
def test_a_tampered_metrics_file_never_stops_a_model_or_the_runs_list(saved_classifier, clip, tmp_path, raw):
    folder = tampered(saved_classifier, tmp_path / "data" / "models" / "run", "metrics.json", raw=raw)
    (folder / "run_settings.json").write_text("{}")
    classifier, result = load_and_classify(folder, clip)
    assert result.error is None and classifier.info()["accuracy"] is None
    listed = runs.list_runs(tmp_path / "data")
    assert [run.name for run in listed] == ["run"] and isinstance(listed[0].summary(), str)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from intentdesk.core.data.store import DatasetStore

    store = DatasetStore.create(tmp_path_factory.mktemp("data") / "data")
    for label, freq in (("LABEL_0", 300), ("LABEL_1", 900), ("LABEL_2", 1500)):
        for seed in range(3):
            store.add_array(tone(freq, 0.4, seed=seed), 16000, label)
    return store.root


@pytest.mark.parametrize(("raw", "expected"), [
    (NESTED, "nested deeper than 32 levels"),
    (" " * (17 << 20), "over the 16 MB"),
    ('{"eval_share": "abc"}', "eval_share is \"abc\", but it must be a number from 0.05 to 0.5"),
    ('{"eval_share": NaN}', "'eval_share' is NaN, not a number"),
    ('{"eval_share": 1e308}', "eval_share is 1e+308"),
    ('{"seed": 1000000000000000000000000000000}', "seed is 1000000000000000000000000000000, but it must be a whole "
                                                  "number from 0 to 1,000,000"),
    ('{"seed": -1}', "seed is -1"),
    ('{"seed": "abc"}', "seed is \"abc\""),
    ("[]", "not a JSON object"),
])
def test_tampered_run_settings_are_named_when_evaluating(saved_classifier, dataset, tmp_path, raw, expected):
    from intentdesk.core.inference.evaluation import evaluate_model

    folder = tampered(saved_classifier, tmp_path / "m", "run_settings.json", raw=raw)
    with pytest.raises(ModelError) as error:
        evaluate_model(folder, dataset)
    assert_refused_well(error.value, str(folder / "run_settings.json"), expected, "--split all")


# ------------------------------------------------------------------ through the command line
def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and the error line of a command (training prints its stages to stderr before it)."""
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error: ") == 1 and err.endswith("\n"), err
    return code, err.splitlines()[-1]


TRAIN = ["train", "{data}", "--base", "{model}", "--out", "{out}", "--epochs", "1"]
CLASSIFY = ["classify", "{model}", "{clip}", "--precision", "fp32"]


@pytest.mark.parametrize(("file", "entry", "value", "expected", "commands"), [
    ("config.json", "num_hidden_layers", 10**30, "num_hidden_layers is 1000000000000000000000000000000",
     [CLASSIFY, TRAIN]),
    ("config.json", "num_attention_heads", -1, "num_attention_heads is -1", [CLASSIFY, TRAIN]),
    ("config.json", "hidden_size", "abc", "hidden_size", [CLASSIFY, TRAIN]),
    ("config.json", "hidden_size", 4096, "describes a model of", [CLASSIFY, TRAIN]),
    ("config.json", "num_labels", "abc", "num_labels is \"abc\"", [CLASSIFY, TRAIN]),
    ("config.json", "id2label", {"0": "a", "1": "b\x1b[2J", "2": "c"}, "control character", [CLASSIFY]),
    ("preprocessor_config.json", "sampling_rate", 10**30, "sampling_rate is 1000000000000000000000000000000",
     [CLASSIFY, TRAIN]),
    ("preprocessor_config.json", "do_normalize", "abc", "do_normalize", [CLASSIFY, TRAIN]),
], ids=["layers", "heads", "hidden-text", "hidden-large", "num-labels", "label-escape", "rate", "normalize"])
def test_classify_and_train_say_what_is_wrong_in_one_line(saved_classifier, dataset, clip, tmp_path, capsys,
                                                          monkeypatch, file, entry, value, expected, commands):
    """The id2label of a base model does not matter for training (the dataset's labels replace it)."""
    monkeypatch.delenv("INTENTDESK_DEBUG", raising=False)
    folder = tampered(saved_classifier, tmp_path / "m", file, entry, value)
    place = {"model": folder, "clip": clip, "data": dataset, "out": tmp_path / "out"}
    for command in commands:
        code, line = run_cli([a.format(**place) for a in command], capsys)
        assert code == 2 and line.startswith("error: ") and "unexpected" not in line, line
        assert expected in line and file in line and "\x1b" not in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("metrics", "left_out"), [
    ({"labels": ["a", "b"], "confusion_matrix": [[1, 0]]}, "confusion_matrix"),
    ({"labels": ["a"], "confusion_matrix": [["x"]]}, "confusion_matrix"),
    ({"labels": [1, 2]}, "labels"),
    ({"per_class": {"a": {"precision": "x", "recall": 1, "f1": 1, "support": 2}}}, "per_class"),
    ({"per_class": {"a": {"precision": 1, "recall": 1, "f1": 1, "support": -2}}}, "per_class"),
    ({"history": [[1]]}, "history"),
    ({"history": [{"epoch": "one"}]}, "history"),
    ({"step_losses": ["a"]}, "step_losses"),
    ({"f1": {"macro": "x"}}, "f1"),
    ({"count": -1}, "count"),
    ({"sound": {"accuracy": "x"}, "fused": {"accuracy": 0.5}}, None),
])
def test_a_tampered_score_is_left_out_so_every_panel_can_show_the_rest(tmp_path, metrics, left_out):
    """The Results panel and the curves index what metrics.json gives (row['support'], h['epoch']...)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"mode": "quick", **metrics}))
    record = runs.read_record(folder)
    assert record.mode == "quick"
    if left_out is not None:
        assert left_out not in record.metrics or record.metrics[left_out] in ([], {}, 0)
    else:
        assert record.sound == {} or "accuracy" not in record.sound
        assert record.fused_accuracy == 0.5 and record.sound_accuracy is None


# ------------------------------------------------------------------ links and special files
@pytest.mark.parametrize("file", ["model.safetensors", "config.json", "words"])
def test_a_link_out_of_the_model_folder_is_refused_naming_it(saved_classifier, clip, tmp_path, file):
    """A model folder is read only from inside: a link to another model's weights (or config, or words part)
    elsewhere was followed; /etc/passwd as the weights was opened."""
    outside = tmp_path / "elsewhere"
    shutil.copytree(saved_classifier, outside)
    (outside / "words").mkdir()
    folder = tmp_path / "m"
    shutil.copytree(saved_classifier, folder)
    if (folder / file).exists():
        (folder / file).unlink()
    (folder / file).symlink_to(outside / file)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, str(folder / file), "is a link to", "outside the model folder")


def test_a_pipe_for_a_model_file_is_refused_without_reading_it(saved_classifier, clip, tmp_path):
    import os

    folder = tmp_path / "m"
    shutil.copytree(saved_classifier, folder)
    (folder / "model.safetensors").unlink()
    os.mkfifo(folder / "model.safetensors")  # reading it would wait for a writer for ever
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, "model.safetensors", "not a plain file")


def test_a_model_in_the_hugging_face_cache_links_to_its_blobs_and_loads(saved_classifier, clip, tmp_path):
    """The cache's layout: snapshots/<commit>/<file> -> ../../blobs/<hash>; those links stay in the model."""
    repo = tmp_path / "models--org--intents"
    snapshot, blobs = repo / "snapshots" / "abc123", repo / "blobs"
    snapshot.mkdir(parents=True)
    blobs.mkdir()
    for n, item in enumerate(sorted(p for p in saved_classifier.iterdir() if p.is_file())):
        shutil.copy(item, blobs / f"blob{n}")
        (snapshot / item.name).symlink_to(Path("../../blobs") / f"blob{n}")
    _classifier, result = load_and_classify(snapshot, clip)
    assert result.error is None and result.ranking


def test_mel_bands_the_model_does_not_take_are_refused_at_load(saved_whisper_classifier, clip, tmp_path,
                                                                no_model_built):
    """feature_size 128 for a Whisper that takes fewer bands (80 for the real ones) failed inside its first
    layer as an "unexpected RuntimeError"; it is named before any model is built."""
    folder = tampered(saved_whisper_classifier, tmp_path / "m", "preprocessor_config.json", "feature_size", 128)
    with pytest.raises(ModelError) as error:
        load_and_classify(folder, clip)
    assert_refused_well(error.value, "preprocessor_config.json", "feature_size is 128", "num_mel_bins is 16")
