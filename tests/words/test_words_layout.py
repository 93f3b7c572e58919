"""The words part of a model folder: training end to end on tiny models, save/load, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.words import asr, layout
from intentdesk.core.words.pipeline import WordsModel, train_words

LABELS = ["freeze", "balance", "pay_bill"]


def clips(n, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(int(16000 * rng.uniform(0.8, 2.5))) * 0.1).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="module")
def trained(tiny_whisper, tiny_bert, toy_phrases, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    texts = [t for label in LABELS for t in toy_phrases[label]]
    labels = [i for i, label in enumerate(LABELS) for _ in toy_phrases[label]]
    eval_labels = np.array([0, 1, 2, 0, 1, 2])
    eval_sound = np.full((6, 3), 0.2, np.float32)
    eval_sound[np.arange(6), eval_labels] = 0.6
    stages = []
    part = train_words(LABELS, clips(len(texts), 0), labels, clips(6, 1), eval_labels, eval_sound,
                       phrases=[("freeze", "please freeze my card")], train_transcripts=texts,
                       recogniser=str(tiny_whisper), text_encoder=str(tiny_bert), cache_dir=cache,
                       progress=lambda stage, done, total: stages.append(stage))
    return part, stages, cache


def test_training_reports_and_configures(trained):
    part, stages, _ = trained
    assert "transcribing training clips" in stages and "training the words head" in stages
    config = part.config
    assert config["training"] == {"clips": 12, "typed_phrases": 1, "transcripts_given": 12}
    assert config["recogniser"]["prompt"] == "freeze, balance, pay bill."
    assert set(config["fusion"]) == {"words_weight", "t_sound", "t_words", "min_similarity", "min_top", "min_margin"}
    assert part.head.background.shape[1:] == (part.head.dim,)  # background sentences (a random encoder finds
    # every one of them a wording of a training text, so none may be left: the rule is then off)
    assert config["metrics"]["eval_clips"] == 6 and config["metrics"]["sound_accuracy"] == 1.0
    assert part.head.info["examples"] == 13


def test_save_load_and_score(trained, tmp_path, tiny_whisper):
    part, _, cache = trained
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    folder = layout.save_words(model, part.config, part.head)
    assert sorted(p.name for p in folder.iterdir()) == sorted([layout.CONFIG, layout.HEAD])
    assert layout.has_words(model)
    config, head, settings = layout.load_words(model, LABELS)
    np.testing.assert_array_equal(head.weight, part.head.weight)
    assert config["version"] == layout.VERSION and settings.to_dict() == part.config["fusion"]
    words = WordsModel.load(model, LABELS, cache_dir=cache)
    assert not words.recogniser_changed
    assert words.transcriber.no_speech_threshold == part.config["recogniser"]["no_speech_threshold"] == \
        asr.NO_SPEECH_THRESHOLD
    sound = np.full((3, 3), 1 / 3, np.float32)
    result = words.score(clips(3, 5), sound, transcripts=["freeze my card", "what is my balance", ""])
    assert result.probabilities.shape == (3, 3) and result.uncertain.shape == (3,)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert result.similarity[2] == -1.0 and result.uncertain[2]  # nothing heard: uncertain
    assert result.probabilities[0].argmax() == 0 and result.probabilities[1].argmax() == 1
    assert len(words.score(clips(2, 6), sound[:2]).transcripts) == 2


def test_a_words_part_from_before_the_no_speech_check_hears_every_clip(trained, tmp_path):
    """Its config has no `no_speech_threshold`: it still loads, and transcribes as it did (no clip left out)."""
    part, _, cache = trained
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    config = json.loads(json.dumps(part.config))
    del config["recogniser"]["no_speech_threshold"]
    layout.save_words(model, config, part.head)
    assert WordsModel.load(model, LABELS, cache_dir=cache).transcriber.no_speech_threshold is None


def test_incomplete_or_mismatched_folders_say_what_is_wrong(trained, tmp_path):
    part, _, cache = trained
    model = tmp_path / "m"
    model.mkdir()
    with pytest.raises(ModelError, match="no words part"):
        layout.load_words(model)
    folder = layout.save_words(model, part.config, part.head)
    with pytest.raises(ModelError, match="not the sound model's"):
        layout.load_words(model, ["a", "b", "c"])
    head_bytes = (folder / layout.HEAD).read_bytes()
    (folder / layout.HEAD).write_bytes(head_bytes[: len(head_bytes) // 2])
    with pytest.raises(ModelError, match="head.safetensors: damaged or incomplete"):
        layout.load_words(model)
    (folder / layout.HEAD).unlink()
    with pytest.raises(ModelError, match="head.safetensors is missing"):
        layout.load_words(model)
    (folder / layout.HEAD).write_bytes(head_bytes)
    config = json.loads((folder / layout.CONFIG).read_text())
    (folder / layout.CONFIG).write_text(json.dumps({**config, "version": 99}))
    with pytest.raises(ModelError, match="newer IntentDesk"):
        layout.load_words(model)
    (folder / layout.CONFIG).write_text(json.dumps({**config, "recogniser": {"source": str(tmp_path / "gone")}}))
    with pytest.raises(ModelError, match="recogniser folder .*gone.*does not exist"):
        WordsModel.load(model, cache_dir=cache)
    (folder / layout.CONFIG).write_text("{not json")
    with pytest.raises(ModelError, match="words_config.json: damaged"):
        layout.load_words(model)
    (folder / layout.CONFIG).unlink()
    with pytest.raises(ModelError, match="words_config.json is missing"):
        layout.load_words(model)


def test_typed_phrases_must_name_known_labels(trained, tiny_whisper, tiny_bert):
    from intentdesk.core.errors import TrainingError

    _, _, cache = trained
    with pytest.raises(TrainingError, match="labels the model does not have: nope"):
        train_words(LABELS, clips(3, 0)[:3], [0, 1, 2], [], [], np.zeros((0, 3)), phrases=[("nope", "x")],
                    recogniser=str(tiny_whisper), text_encoder=str(tiny_bert), cache_dir=cache)


def test_clips_with_a_known_transcript_are_not_heard_again(tiny_bert, tmp_path):
    """Stored transcripts (the user's, or this recogniser's from `transcribe`) are used as they are:
    only the clips without one go through the recogniser (a dataset's worth of speech takes minutes)."""
    from intentdesk.core.words.asr import Transcriber

    class CountingRecogniser(Transcriber):
        def __init__(self) -> None:  # no model: it only counts what it is asked to hear
            self.source = self.fingerprint = "counting"
            self.fit_window, self.window_step, self.window_padding = True, 2.0, 2.0
            self.max_new_tokens, self.prompt, self.num_beams, self.heard = 40, "", 1, 0
            self.language, self.no_speech_threshold = "", None

        def transcribe(self, waves, progress=None):
            self.heard += len(waves)
            return ["please freeze my card"] * len(waves)

    recogniser = CountingRecogniser()
    known = ["freeze my card", None, "what is my balance", "pay my bill", None, "check my balance"]
    part = train_words(LABELS, clips(6, 3), [0, 0, 1, 2, 0, 1], clips(3, 4), [0, 1, 2], np.full((3, 3), 1 / 3),
                       train_transcripts=known, recogniser=recogniser, text_encoder=str(tiny_bert),
                       cache_dir=tmp_path)
    assert recogniser.heard == 2 + 3  # the two unknown training clips, then the eval clips
    assert part.train_transcripts[0] == "freeze my card" and part.train_transcripts[1] == "please freeze my card"
    assert part.config["training"]["transcripts_given"] == 4


def test_an_export_refuses_a_words_part_folder_without_weights(saved_words_classifier, tmp_path):
    """A model folder from someone else, its words_config.json edited to name a folder of this computer that holds
    a model's settings and tokenizer but no weights: the export carried those files along and loading failed."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(saved_words_classifier, model)
    config_path = model / "words" / "words_config.json"
    source = json.loads(config_path.read_text())["recogniser"]["source"]
    victim = tmp_path / "victim"
    victim.mkdir()
    for name in ("config.json", "tokenizer.json", "vocab.json", "preprocessor_config.json"):
        if (Path(source) / name).is_file():
            shutil.copy(Path(source) / name, victim / name)
    config = json.loads(config_path.read_text())
    config["recogniser"]["source"] = str(victim)
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="not a recogniser model folder .*and weights"):
        layout.copy_model_folder(model, tmp_path / "export")
