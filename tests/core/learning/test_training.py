"""End to end on tiny random backbones: the model must really learn a learnable toy task."""

import json
import threading

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError, ModelError, TrainingError
from intentdesk.core.events import EpochEvent, Outcome, Stage, StageEvent, StepEvent, TrainFinished, TrainStarted
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.evaluation import evaluate_model
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.trainer import train
from tests.helpers import tone, write_tone_folder


@pytest.fixture
def learnable(tmp_path):
    from intentdesk.core.data.importers import import_into

    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=10)))
    return store


def test_full_mode_learns_tones(learnable, tiny_wav2vec2, tmp_path):
    events = []
    settings = TrainSettings(base_model=str(tiny_wav2vec2), mode="full", epochs=6, learning_rate=3e-3,
                             head_learning_rate=3e-3, batch_size=4, label_smoothing=0.0, warm_start_epochs=0)
    result = train(learnable.root, tmp_path / "model", settings, events.append)
    assert result.metrics["accuracy"] >= 0.9, result.history
    assert sum(isinstance(e, TrainStarted) for e in events) == 1
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert steps and len(epochs) == 6 and isinstance(events[-1], TrainFinished)
    assert steps[-1].step == steps[-1].total_steps
    assert np.mean([e.loss for e in steps[-5:]]) < np.mean([e.loss for e in steps[:5]])
    out = result.output_dir
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["f1"]) == {"micro", "macro", "weighted"}
    assert len(metrics["confusion_matrix"]) == 3 and len(metrics["history"]) == 6
    settings_saved = json.loads((out / "run_settings.json").read_text())
    assert settings_saved["mode"] == "full" and settings_saved["epochs"] == 6
    config = json.loads((out / "config.json").read_text())
    assert sorted(config["id2label"].values()) == ["high", "low", "mid"]
    # The saved folder scores the same on its eval split when reloaded from disk.
    again = evaluate_model(out, learnable.root, split="eval")
    assert again["accuracy"] == pytest.approx(metrics["accuracy"], abs=0.1)


def test_full_mode_warm_starts_from_quick(learnable, tiny_wav2vec2, tmp_path):
    """Full mode first trains the top layer on cached features, then the whole backbone; the
    curves run on across both stages and the saved model is the best of either."""
    events = []
    settings = TrainSettings(base_model=str(tiny_wav2vec2), mode="full", epochs=3, warm_start_epochs=4,
                             learning_rate=1e-3, head_learning_rate=1e-2, batch_size=4, label_smoothing=0.0)
    result = train(learnable.root, tmp_path / "model", settings, events.append)
    epochs = [e.epoch for e in events if isinstance(e, EpochEvent)]
    assert epochs == [1, 2, 3, 4, 5, 6, 7]
    assert [h["epoch"] for h in result.history] == epochs
    assert sum(isinstance(e, TrainStarted) for e in events) == 2
    best = max(result.history, key=lambda h: (h["accuracy"], h["macro_f1"], -h["eval_loss"]))
    assert result.metrics["accuracy"] == pytest.approx(best["accuracy"], abs=1e-6)
    assert result.metrics["accuracy"] >= 0.9
    # Structured progress: kinds in order, one fraction of the whole run that never goes back.
    kinds = [e.kind for e in events if isinstance(e, StageEvent)]
    assert list(dict.fromkeys(kinds)) == [Stage.LOADING_AUDIO, Stage.LOADING_MODEL, Stage.CACHING_FEATURES,
                                          Stage.WARM_START, Stage.FINE_TUNING, Stage.EVALUATING, Stage.SAVING]
    fractions = [e.fraction for e in events if isinstance(e, (StageEvent, StepEvent))]
    assert None not in fractions and fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    assert [e.kind for e in events if isinstance(e, TrainStarted)] == [Stage.WARM_START, Stage.FINE_TUNING]
    assert events[-1].outcome is Outcome.FINISHED and events[-1].record.path == result.path == result.output_dir


def test_quick_mode_learns_and_caches(learnable, tiny_wav2vec2, tmp_path):
    settings = TrainSettings(base_model=str(tiny_wav2vec2), mode="quick", epochs=12, learning_rate=3e-3,
                             head_learning_rate=1e-2, batch_size=4, label_smoothing=0.0, bf16=False)
    first = train(learnable.root, tmp_path / "quick", settings)
    assert first.metrics["accuracy"] >= 0.9, first.history
    events = []
    second = train(learnable.root, tmp_path / "quick2", settings, events.append)
    stages = [getattr(e, "stage", "") for e in events]
    assert not any(s.startswith("Computing backbone features") for s in stages), "cache should be warm"
    caching = [e for e in events if isinstance(e, StageEvent) and e.kind is Stage.CACHING_FEATURES]
    assert caching and all(e.step == e.total == 0 for e in caching), "nothing computed: all from the cache"
    assert second.metrics["accuracy"] == pytest.approx(first.metrics["accuracy"])
    # The sound model's own out-of-scope rule, calibrated on the eval split, travels in config.json.
    rule = json.loads((second.output_dir / "config.json").read_text())["intentdesk"]["uncertain_below"]
    assert 0.0 < rule <= 0.5
    # The quick model is an ordinary checkpoint: the full forward pass agrees with training's view.
    reloaded = evaluate_model(second.output_dir, learnable.root, split="eval")
    assert reloaded["accuracy"] >= 0.9


def test_quick_mode_on_whisper_shortens_window(learnable, tiny_whisper, tmp_path):
    settings = TrainSettings(base_model=str(tiny_whisper), mode="quick", epochs=2, max_seconds=2, bf16=False)
    result = train(learnable.root, tmp_path / "w", settings)
    config = json.loads((result.output_dir / "config.json").read_text())
    extractor = json.loads((result.output_dir / "preprocessor_config.json").read_text())
    assert config["max_source_positions"] == 100
    assert extractor["chunk_length"] == 2 and extractor["n_samples"] == 32000
    classifier = Classifier(result.output_dir)
    ranking = classifier.classify_recording(tone(300, 0.5), 16000).ranking
    assert sorted(p.label for p in ranking) == ["high", "low", "mid"]


def test_full_mode_on_whisper_with_bf16(learnable, tiny_whisper, tmp_path):
    """Spectrogram features are computed in float32 even when the model runs under bf16 autocast."""
    settings = TrainSettings(base_model=str(tiny_whisper), mode="full", epochs=1, max_seconds=1, bf16=True)
    result = train(learnable.root, tmp_path / "w", settings)
    assert (result.output_dir / "model.safetensors").is_file()


def test_cancel_keeps_best_model_so_far(learnable, tiny_wav2vec2, tmp_path):
    cancel = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 1:
            cancel.set()

    settings = TrainSettings(base_model=str(tiny_wav2vec2), epochs=50, batch_size=4, warm_start_epochs=0)
    result = train(learnable.root, tmp_path / "m", settings, on_event, cancel)
    assert result.cancelled and result.best_epoch == 1
    assert (result.output_dir / "config.json").is_file()
    assert json.loads((result.output_dir / "metrics.json").read_text())["cancelled"] is True
    assert events[-1].outcome is Outcome.CANCELLED and events[-1].record.path == result.path


def test_cancel_before_first_epoch_saves_nothing(learnable, tiny_wav2vec2, tmp_path):
    cancel = threading.Event()
    cancel.set()
    events = []
    result = train(learnable.root, tmp_path / "m", TrainSettings(base_model=str(tiny_wav2vec2)), events.append,
                   cancel)
    assert result.cancelled and result.output_dir is None
    assert events[-1].outcome is Outcome.CANCELLED and events[-1].record is None and events[-1].output_dir is None
    assert not (tmp_path / "m").exists()


def test_one_class_is_refused(tmp_path, tiny_wav2vec2):
    store = DatasetStore.create(tmp_path / "d")
    for n in range(3):
        store.add_array(tone(300, 0.4, seed=n), 16000, "only")
    with pytest.raises(TrainingError, match="at least 2 are needed"):
        train(store.root, tmp_path / "m", TrainSettings(base_model=str(tiny_wav2vec2)))
    assert not (tmp_path / "m").exists()


def test_label_with_one_clip_is_refused(tmp_path, tiny_wav2vec2):
    store = DatasetStore.create(tmp_path / "d")
    for n in range(3):
        store.add_array(tone(300, 0.4, seed=n), 16000, "a")
    store.add_array(tone(900, 0.4), 16000, "b")
    with pytest.raises(TrainingError, match=r"b \(1\)"):
        train(store.root, tmp_path / "m", TrainSettings(base_model=str(tiny_wav2vec2)))


def test_unreadable_clip_is_named(learnable, tiny_wav2vec2, tmp_path):
    victim = learnable.clips[0]
    learnable.path_of(victim).write_bytes(b"corrupted")
    events = []
    with pytest.raises(TrainingError, match=victim.name):
        train(learnable.root, tmp_path / "m", TrainSettings(base_model=str(tiny_wav2vec2)), events.append)
    assert events[-1].outcome is Outcome.FAILED and victim.name in events[-1].error  # the run had started


def test_missing_model_folder(learnable, tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        train(learnable.root, tmp_path / "m", TrainSettings(base_model=str(tmp_path / "no-such-model")))


def test_out_is_the_base_model_refused_before_training(learnable, tiny_wav2vec2):
    """`--out` equal to `--base` used to train, then replace the user's base model folder."""
    before = sorted((p.name, p.read_bytes()) for p in tiny_wav2vec2.iterdir())
    events = []
    with pytest.raises(TrainingError, match="is the base model folder"):
        train(learnable.root, tiny_wav2vec2, TrainSettings(base_model=str(tiny_wav2vec2)), events.append)
    assert events == [] and sorted((p.name, p.read_bytes()) for p in tiny_wav2vec2.iterdir()) == before


def test_out_that_is_not_an_intentdesk_model_is_refused_before_training(learnable, saved_classifier, tmp_path,
                                                                        tiny_wav2vec2):
    """A Hugging Face folder the user owns (config.json, no run_settings.json) is not replaced."""
    import shutil

    users = tmp_path / "users-model"
    shutil.copytree(saved_classifier, users)
    events = []
    with pytest.raises(TrainingError, match="not a model trained by IntentDesk"):
        train(learnable.root, users, TrainSettings(base_model=str(tiny_wav2vec2)), events.append)
    assert events == []
    assert sorted(p.name for p in users.iterdir()) == sorted(p.name for p in saved_classifier.iterdir())


def test_offline_hub_model_says_so(learnable, tmp_path):
    with pytest.raises(ModelError, match="hub cannot be reached"):
        train(learnable.root, tmp_path / "m", TrainSettings(base_model="facebook/wav2vec2-base"))


def test_whole_clips_are_kept_up_to_max_seconds(tmp_path, tiny_wav2vec2):
    from intentdesk.core.models.inputs import load_waves

    path = tmp_path / "long.wav"
    sf.write(path, tone(300, 10.0), 16000)
    [wave], errors = load_waves([path], 16000, 8.0)
    assert not errors and len(wave) == 8 * 16000


def test_training_uses_bf16_only_where_it_is_fast(monkeypatch):
    """AVX512-BF16 without AMX made training slower than float32, so autocast needs AMX (or CUDA)."""
    import torch

    from intentdesk.core.models import backbone

    cpu = torch.device("cpu")
    monkeypatch.setattr(backbone, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not backbone.uses_bf16(cpu)
    with backbone.autocast_for(cpu):
        assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert backbone.uses_bf16(cpu) and not backbone.uses_bf16(cpu, enabled=False)
    with backbone.autocast_for(cpu):
        assert torch.is_autocast_enabled("cpu")


def test_a_sound_only_run_does_not_read_the_typed_phrases(tone_dataset, tiny_wav2vec2, tmp_path):
    """A damaged phrases.csv stops a run that learns the words, never one that learns the sound only."""
    (tone_dataset.root / "phrases.csv").write_text("label,text\n=HYPERLINK(1),hello\n")
    with pytest.raises(DatasetError, match="phrases.csv, line 2"):
        tone_dataset.texts.phrases()  # the file is refused when it is read
    settings = TrainSettings(base_model=str(tiny_wav2vec2), mode="quick", epochs=1, batch_size=4, words=False)
    assert train(tone_dataset.root, tmp_path / "model", settings).path is not None
