"""A words part is untrusted input (issue 26): every entry of words_config.json, every tensor of
head.safetensors and the recogniser's generation settings tampered with, one at a time.

Each either loads with a sane, bounded setting or refuses the words part with a `ModelError` naming the
file, the entry and what to do (never a bare Python message); either way classifying a clip through
`Classifier` still answers, by sound only with the reason when the words part was refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.errors import ModelError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.words import checks, layout
from intentdesk.core.words.pipeline import WordsModel
from tests.helpers import RATE, tone

NAN, INF = float("nan"), float("inf")
SOUND_LABELS = ["LABEL_0", "LABEL_1", "LABEL_2"]  # the tiny sound classifier's (num_labels=3)
ADVICE = ("train the model again", "update IntentDesk", "get a fresh copy")


def deep(depth: int) -> str:
    """JSON text nested `depth` lists deep: json.loads raises RecursionError on it."""
    return "[" * depth + "]" * depth


# (entry, value, the entry the refusal names; None: the value is sensible and loads)
CONFIG_CASES = [
    ("format", "other", "format"), ("format", 5, "format"),
    ("version", "abc", "version"), ("version", -1, "version"), ("version", 1e308, "version"),
    ("version", True, "version"), ("version", 2, "version"), ("version", 1, None),
    ("labels", 5, "labels"), ("labels", "abc", "labels"), ("labels", [], "labels"),
    ("labels", ["LABEL_0", "LABEL_0", "LABEL_1"], "labels"), ("labels", [0, 1, 2], "labels"),
    ("labels", ["LABEL_0", "LABEL_1"], "labels"), ("labels", [[["LABEL_0"]], "LABEL_1", "LABEL_2"], "labels"),
    ("labels", [f"L{i}" for i in range(checks.MAX_LABELS + 1)], "labels"),
    ("recogniser", 5, "recogniser"), ("recogniser", [], "recogniser"), ("recogniser", "abc", "recogniser"),
    ("recogniser", {}, "recogniser.source"), ("recogniser.source", 5, "recogniser.source"),
    ("recogniser.source", "", "recogniser.source"), ("recogniser.source", ["a"], "recogniser.source"),
    ("recogniser.fingerprint", 5, "recogniser.fingerprint"), ("recogniser.fingerprint", None, None),
    ("recogniser.fit_window", "abc", "recogniser.fit_window"), ("recogniser.fit_window", 5, "recogniser.fit_window"),
    ("recogniser.fit_window", False, None),
    *[("recogniser.window_step", v, "recogniser.window_step") for v in (0, -1, NAN, INF, 1e308, "abc", [], None)],
    ("recogniser.window_step", 1.0, None),
    *[("recogniser.window_padding", v, "recogniser.window_padding") for v in (-1, NAN, 1e308, "abc")],
    ("recogniser.window_padding", 0, None),
    *[("recogniser.max_new_tokens", v, "recogniser.max_new_tokens")
      for v in (10 ** 9, 0, -1, 1.5, "abc", NAN, 1e308, {})],
    ("recogniser.max_new_tokens", 65, "recogniser.max_new_tokens"),  # more than the tiny recogniser's 64 positions
    ("recogniser.max_new_tokens", 64, None),  # within them: each clip asks for what is left beside the prompt
    *[("recogniser.prompt", v, "recogniser.prompt") for v in (5, ["a"], "x" * (checks.MAX_PROMPT_CHARS + 1))],
    ("recogniser.prompt", " ".join(["card"] * 60), "recogniser.prompt"),  # 60 tokens: the tiny one reads 64
    ("recogniser.prompt", "", None),
    *[("recogniser.num_beams", v, "recogniser.num_beams") for v in (1_000_000, 0, -1, "abc", 9, 2.5, NAN)],
    ("recogniser.num_beams", 2, None),
    *[("recogniser.no_speech_threshold", v, "recogniser.no_speech_threshold") for v in (-0.1, 1.5, NAN, "abc", [])],
    ("recogniser.no_speech_threshold", None, None), ("recogniser.no_speech_threshold", 0.6, None),
    ("text_encoder", 5, "text_encoder"), ("text_encoder", {}, "text_encoder.source"),
    ("text_encoder.source", 5, "text_encoder.source"), ("text_encoder.fingerprint", 5, "text_encoder.fingerprint"),
    ("text_encoder.fingerprint", "0" * 16, "text encoder"),
    *[("text_encoder.dim", v, "text_encoder.dim") for v in ("abc", 0, -1, 10 ** 9, NAN, 1.5)],
    ("text_encoder.dim", 64, "text_encoder.dim"),
    ("fusion", 5, "fusion"), ("fusion", [], "fusion"), ("fusion", "abc", "fusion"), ("fusion", {}, None),
    *[("fusion.words_weight", v, "fusion.words_weight") for v in (-0.1, 1.5, NAN, INF, "abc", None, [])],
    ("fusion.words_weight", 0, None), ("fusion.words_weight", 1, None),
    *[(f"fusion.{key}", v, f"fusion.{key}") for key in ("t_sound", "t_words")
      for v in (0, -1, NAN, INF, 1e308, 1e-300, "abc", None)],
    ("fusion.t_words", 0.5, None),
    *[("fusion.min_similarity", v, "fusion.min_similarity") for v in (NAN, 5, -5, "abc", None)],
    ("fusion.min_similarity", 0.3, None),
    *[("fusion.min_top", v, "fusion.min_top") for v in (NAN, -1, 2, "abc", None)],
    ("fusion.min_top", 0.5, None),
    *[("fusion.min_margin", v, "fusion.min_margin") for v in (NAN, 5, "abc", INF)],
    ("fusion.min_margin", None, None), ("fusion.min_margin", -0.1, None),
    ("head", 5, "head"), ("head", "abc", "head"), ("head", [], "head"), ("head", {}, None),
    ("metrics", "abc", None), ("metrics", NAN, "metrics"), ("training", 5, None), ("unknown_entry", [1, 2], None),
]


def set_entry(config: dict, entry: str, value) -> None:
    *sections, key = entry.split(".")
    for section in sections:
        config = config[section]
    config[key] = value


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, tone(440, 0.8, RATE), RATE)
    return path


@pytest.fixture(scope="module")
def by_sound(saved_classifier, clip) -> list[tuple[str, float]]:
    """The sound-only ranking of `clip`: what a refused words part must leave as the answer."""
    result = Classifier(saved_classifier, precision="fp32").classify_files([clip])[0]
    return [(p.label, round(p.score, 5)) for p in result.ranking]


@pytest.fixture
def model(saved_words_classifier, tiny_recogniser, tmp_path) -> Path:
    """A copy of the words model whose recogniser is a copy too (its generation settings get tampered)."""
    folder = tmp_path / "model"
    shutil.copytree(saved_words_classifier, folder)
    shutil.copytree(tiny_recogniser, tmp_path / "recogniser")
    edit_config(folder, lambda config: set_entry(config, "recogniser.source", str(tmp_path / "recogniser")))
    return folder


def config_path(model: Path) -> Path:
    return model / layout.FOLDER / layout.CONFIG


def edit_config(model: Path, change) -> None:
    config = json.loads(config_path(model).read_text())
    change(config)
    config_path(model).write_text(json.dumps(config))


def assert_outcome(model: Path, clip: Path, by_sound, refused: str | None, file: str) -> None:
    """The words part loads bounded (`refused` None) or is refused naming `file`, `refused` and what to do;
    a clip is classified either way, by sound only with the reason when refused."""
    if refused is None:
        words = WordsModel.load(model, SOUND_LABELS, cache_dir=False)
        generation = words.transcriber._parts[0].generation_config  # the recogniser file's decoding is not used
        assert words.transcriber.num_beams <= checks.MAX_BEAMS and generation.num_beams in (None, 1)
        assert generation.max_new_tokens is None and generation.max_length in (None, 20)
        assert generation.num_return_sequences in (None, 1) and not generation.return_dict_in_generate
        assert not generation.do_sample and not generation.no_repeat_ngram_size and not generation.min_new_tokens
        assert words.transcriber.max_new_tokens <= checks.MAX_NEW_TOKENS
    else:
        with pytest.raises(ModelError) as caught:  # not TypeError, ValueError, RecursionError...
            WordsModel.load(model, SOUND_LABELS, cache_dir=False)
        message = str(caught.value)
        assert file in message and refused in message and any(advice in message for advice in ADVICE), message
        assert "\n" not in message
    classifier = Classifier(model, precision="fp32")
    result = classifier.classify_files([clip])[0]
    assert result.error is None and result.ranking
    if refused is None:
        assert classifier.has_words and classifier.words_problem is None and result.words_problem is None
        assert isinstance(result.transcript, str) and np.isfinite([p.score for p in result.ranking]).all()
    else:
        problem = classifier.words_problem
        assert not classifier.has_words and refused in problem and file in problem and "sound only" in problem
        assert result.words_problem == problem and result.transcript is None
        assert [(p.label, round(p.score, 5)) for p in result.ranking] == by_sound


@pytest.mark.parametrize("entry, value, refused", CONFIG_CASES,
                         ids=[f"{entry}={str(value)[:24]}" for entry, value, _ in CONFIG_CASES])
def test_a_tampered_words_config_entry(model, clip, by_sound, entry, value, refused):
    edit_config(model, lambda config: set_entry(config, entry, value))
    assert_outcome(model, clip, by_sound, refused, layout.CONFIG)


@pytest.mark.parametrize("text, refused", [
    ("[1, 2]", "not a JSON object"),
    ("{not json", "damaged"),
    ('{"format": "intentdesk-words", "metrics": ' + deep(100_000) + "}", "damaged"),
], ids=["a-list", "not-json", "nested-100000-deep"])
def test_a_words_config_that_is_not_a_sensible_file(model, clip, by_sound, text, refused):
    config_path(model).write_text(text)
    assert_outcome(model, clip, by_sound, refused, layout.CONFIG)


def test_a_words_config_over_the_size_bound(model, clip, by_sound):
    """Its size is checked before it is read."""
    edit_config(model, lambda config: set_entry(config, "padding", "x" * (17 << 20)))
    assert_outcome(model, clip, by_sound, "over the", layout.CONFIG)


def read_head(model: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(model / layout.FOLDER / layout.HEAD))


def poked(array: np.ndarray, value: float) -> np.ndarray:
    array = array.copy()
    array.flat[0] = value
    return array


# (tensor, how it is changed, the entry named; None: still sensible)
HEAD_CASES = [
    *[("weight", lambda t, v=v: poked(t, v), "weight") for v in (NAN, INF, -INF, 1e30)],
    ("weight", lambda t: np.vstack([t, t[:1]]), "weight"), ("weight", lambda t: t[:, :-1], "31-number"),
    ("weight", lambda t: t.astype(np.int32), "weight"), ("weight", lambda t: t.reshape(-1), "weight"),
    ("weight", lambda t: t.astype(np.float64), None), ("weight", lambda t: t.astype(np.float16), None),
    ("weight", None, "weight"),
    ("bias", lambda t: poked(t, NAN), "bias"), ("bias", lambda t: t[:-1], "bias"),
    ("bias", lambda t: t.astype(np.int64), "bias"),
    ("bank", lambda t: poked(t, NAN), "bank"), ("bank", lambda t: t * 100, "bank"),
    ("bank", lambda t: t[:, :-1], "bank"), ("bank", lambda t: t.reshape(-1), "bank"),
    ("bank_labels", lambda t: poked(t, 99), "bank_labels"), ("bank_labels", lambda t: poked(t, -1), "bank_labels"),
    ("bank_labels", lambda t: t.astype(np.float32), "bank_labels"), ("bank_labels", lambda t: t[:-1], "bank_labels"),
    ("background", lambda _: np.full((2, 32), NAN, np.float32), "background"),
    ("background", lambda _: np.eye(2, 33, dtype=np.float32), "background"),
    ("background", lambda _: np.eye(2, 32, dtype=np.float32), None),
    ("zzz_extra", lambda _: np.zeros(3, np.float32), None),
]


@pytest.mark.parametrize("name, change, refused", HEAD_CASES,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(HEAD_CASES)])
def test_a_tampered_head_tensor(model, clip, by_sound, name, change, refused):
    from safetensors.numpy import save_file

    tensors = read_head(model)
    if change is None:
        del tensors[name]
    else:
        tensors[name] = np.ascontiguousarray(change(tensors.get(name)))
    if name == "bank" and refused is None:
        tensors["bank_labels"] = tensors["bank_labels"][: len(tensors["bank"])]
    save_file(tensors, str(model / layout.FOLDER / layout.HEAD))
    assert_outcome(model, clip, by_sound, refused, layout.HEAD)


def test_a_head_bank_over_the_bound_and_an_oversized_head_file(model, clip, by_sound, monkeypatch):
    """The bounds are checked before the numbers are used (here made small, so the test stays small)."""
    monkeypatch.setattr(checks, "MAX_BANK_ROWS", 2)
    assert_outcome(model, clip, by_sound, "bank", layout.HEAD)
    monkeypatch.setattr(checks, "MAX_BANK_ROWS", 10 ** 6)
    monkeypatch.setattr(checks, "MAX_HEAD_BYTES", 100)
    assert_outcome(model, clip, by_sound, "large", layout.HEAD)


def test_a_head_file_that_is_not_safetensors(model, clip, by_sound):
    (model / layout.FOLDER / layout.HEAD).write_bytes(b"\xff" * 64)
    assert_outcome(model, clip, by_sound, "damaged", layout.HEAD)


# (entry of the recogniser's generation_config.json, value, the entry named; None: not used, decoding stays bounded)
GENERATION_CASES = [
    ("num_beams", 1_000_000, None), ("max_new_tokens", 10 ** 9, None), ("max_length", 10 ** 9, None),
    ("min_new_tokens", 10 ** 9, None), ("no_repeat_ngram_size", 10 ** 9, None), ("no_repeat_ngram_size", -1, None),
    ("num_return_sequences", 5, None), ("return_dict_in_generate", True, None), ("do_sample", True, None),
    ("temperature", 0, None), ("repetition_penalty", NAN, "repetition_penalty"), ("num_beam_groups", 1000, None),
    ("max_time", 0, None), ("output_scores", True, None),
    ("forced_decoder_ids", [[i, 280] for i in range(1, 100_001)], "forced_decoder_ids"),
    ("forced_decoder_ids", "abc", "forced_decoder_ids"), ("forced_decoder_ids", [[1, 10 ** 9]], "forced_decoder_ids"),
    ("forced_decoder_ids", [[[[1]]]], "forced_decoder_ids"), ("forced_decoder_ids", 5, "forced_decoder_ids"),
    ("suppress_tokens", list(range(300_000)), "suppress_tokens"), ("suppress_tokens", ["abc"], "suppress_tokens"),
    ("begin_suppress_tokens", 5, "begin_suppress_tokens"),
    ("decoder_start_token_id", "abc", "decoder_start_token_id"),
    ("decoder_start_token_id", 10 ** 9, "decoder_start_token_id"),
    ("decoder_start_token_id", -1, "decoder_start_token_id"), ("eos_token_id", NAN, "eos_token_id"),
    ("eos_token_id", [272, 273], None), ("lang_to_id", 5, "lang_to_id"), ("task", "sing", "task"),
    ("no_timestamps_token_id", [1], "no_timestamps_token_id"),
]


@pytest.mark.parametrize("entry, value, refused", GENERATION_CASES,
                         ids=[f"{entry}={str(value)[:16]}" for entry, value, _ in GENERATION_CASES])
def test_a_tampered_recogniser_generation_config(model, clip, by_sound, entry, value, refused):
    file = Path(json.loads(config_path(model).read_text())["recogniser"]["source"]) / "generation_config.json"
    settings = json.loads(file.read_text())
    settings[entry] = value
    file.write_text(json.dumps(settings))
    assert_outcome(model, clip, by_sound, refused, "generation_config.json")


@pytest.mark.parametrize("text", ["{not json", deep(100_000)], ids=["not-json", "nested"])
def test_a_damaged_recogniser_generation_config_is_named(model, clip, by_sound, text):
    file = Path(json.loads(config_path(model).read_text())["recogniser"]["source"]) / "generation_config.json"
    file.write_text(text)
    assert_outcome(model, clip, by_sound, "damaged", "generation_config.json")


def test_the_recogniser_writes_no_more_than_its_positions_allow(model):
    """max_new_tokens within bounds, a prompt within bounds, and still room left on a long clip: the count
    of tokens asked for is cut to what Whisper's positions allow (it refuses the whole batch otherwise)."""
    edit_config(model, lambda config: set_entry(config, "recogniser.max_new_tokens", 40))
    words = WordsModel.load(model, SOUND_LABELS, cache_dir=False)
    asked = []
    real = words.transcriber._generate
    words.transcriber._generate = lambda mel, tokens, prompt: asked.append(tokens) or real(mel, tokens, prompt)
    [text] = words.transcriber.transcribe([np.zeros(RATE * 20, np.float32) + 0.01])
    assert isinstance(text, str) and asked and max(asked) <= words.transcriber.longest_output
