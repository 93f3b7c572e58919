"""Quick mode's default task: the head on cached pooled features (core/learning/pooled.py)."""

import json

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.audio import io as audio
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import ModelError
from intentdesk.core.learning.pooled import check_pooled_support
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.learning.trainer import train
from tests.helpers import tone, write_tone_folder


@pytest.fixture
def learnable(tmp_path):
    from intentdesk.core.data.importers import import_into

    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=10)))
    return store


def quick(base, **overrides) -> TrainSettings:
    values = {"base_model": str(base), "mode": "quick", "head_learning_rate": 1e-2, "batch_size": 8, "bf16": False}
    return TrainSettings(**{**values, **overrides})


def pipeline_scores(model_dir, paths) -> list[dict[str, float]]:
    from transformers import pipeline

    classify = pipeline("audio-classification", model=str(model_dir), device="cpu")
    out = []
    for path in paths:
        wave, rate = sf.read(path, dtype="float32")
        out.append({p["label"]: p["score"] for p in classify({"raw": wave, "sampling_rate": rate}, top_k=None)})
    return out


@pytest.mark.parametrize("base", ["tiny_wav2vec2", "tiny_whisper"])
def test_pooled_head_learns_and_the_saved_folder_computes_exactly_what_was_trained(base, learnable, tmp_path,
                                                                                  request):
    """The plain Hugging Face pipeline on the saved folder classifies the clips as trained."""
    result = train(learnable.root, tmp_path / "m", quick(request.getfixturevalue(base), epochs=40))
    assert result.accuracy >= 0.9, result.history
    clips = learnable.clips
    scores = pipeline_scores(tmp_path / "m", [learnable.path_of(c) for c in clips])
    right = [max(s, key=s.get) == c.label for s, c in zip(scores, clips)]
    assert np.mean(right) >= 0.9


def test_folding_the_standardisation_into_the_projector_is_exact(tiny_wav2vec2):
    import torch

    from intentdesk.core.learning.pooled import PooledHead
    from intentdesk.core.models.backbone import load_classifier_model

    model = load_classifier_model(str(tiny_wav2vec2), ["a", "b", "c"])
    torch.manual_seed(0)
    width = model.projector.in_features
    head = PooledHead(model, torch.randn(width) * 3, torch.rand(width) + 0.1)
    pooled = torch.randn(5, width) * 4
    with torch.no_grad():
        expected = head(pooled)
        head.apply_to(model)
        folded = model.classifier(model.projector(pooled))
    assert torch.allclose(folded, expected, atol=1e-4)


def test_pooled_quick_saves_weights_that_differ_from_the_base(learnable, tiny_wav2vec2, tmp_path):
    """Both head layers learn (a frozen classifier under a learning projector once slipped through)."""
    from safetensors.torch import load_file

    train(learnable.root, tmp_path / "m", quick(tiny_wav2vec2, epochs=3))
    train(learnable.root, tmp_path / "n", quick(tiny_wav2vec2, epochs=3, seed=1))
    first, second = load_file(tmp_path / "m" / "model.safetensors"), load_file(tmp_path / "n" / "model.safetensors")
    for name in ("projector.weight", "classifier.weight"):
        assert not np.allclose(first[name].numpy(), second[name].numpy()), name
    assert np.allclose(first["wav2vec2.encoder.layers.0.attention.k_proj.weight"].numpy(),
                       second["wav2vec2.encoder.layers.0.attention.k_proj.weight"].numpy())


def test_warm_cache_skips_the_backbone_and_the_speed_variants(learnable, tiny_wav2vec2, tmp_path, monkeypatch):
    settings = quick(tiny_wav2vec2, epochs=2)
    first = train(learnable.root, tmp_path / "a", settings)

    def no_resampling(*_args, **_kwargs):
        raise AssertionError("a cached speed variant was computed again")

    monkeypatch.setattr(audio, "change_speed", no_resampling)
    second = train(learnable.root, tmp_path / "b", settings)
    assert second.accuracy == pytest.approx(first.accuracy)


@pytest.mark.parametrize("speeds", [(0.9,), (0.9, 1.1), ()])
def test_each_clip_is_heard_at_one_speed_and_spread_both_ways(speeds, learnable, tiny_wav2vec2, tmp_path,
                                                              monkeypatch):
    """Per training clip the feature pass hears the original and at most one speed copy, whatever the
    number of speeds; the head learns from the original, that copy, and the original moved 2, -1 and -2
    times as far as the copy moved it; the eval clips stay originals."""
    import torch

    from intentdesk.core.learning.pooled import PooledTask

    built, heard = [], []
    init, change_speed = PooledTask.__init__, audio.change_speed

    def spy(self, model, module, train_variants, eval_vectors, device):
        built.append((train_variants.clone(), eval_vectors.clone()))
        init(self, model, module, train_variants, eval_vectors, device)

    def counted(wave, rate, factor):
        heard.append(factor)
        return change_speed(wave, rate, factor)

    monkeypatch.setattr(PooledTask, "__init__", spy)
    monkeypatch.setattr(audio, "change_speed", counted)
    record = train(learnable.root, tmp_path / "m", quick(tiny_wav2vec2, epochs=1, speed_perturbation=speeds,
                                                          learn_from_all=False))
    variants, eval_vectors = built[0]
    assert len(heard) == (record.train_clips if speeds else 0) and set(heard) <= set(speeds)
    if len(speeds) == 2:
        assert set(heard) == set(speeds)  # the clips share the speeds
    assert variants.shape[1] == (5 if speeds else 1) and eval_vectors.ndim == 2
    original = variants[:, 0]
    if speeds:
        speed_copy = variants[:, 1]
        assert not torch.allclose(speed_copy, original)
        for k, step in enumerate((2.0, -1.0, -2.0)):
            assert torch.allclose(variants[:, 2 + k], original + step * (speed_copy - original), atol=1e-5)


def test_a_clip_keeps_its_speed_across_runs_and_seeds(learnable, tiny_wav2vec2, tmp_path, monkeypatch):
    """The speed a clip is heard at follows its content, not the split: with another seed (another
    split, and an empty cache so that every copy is made again) each clip that trains in both runs is
    played at the speed it had, so a warm cache serves it; the clips share both speeds."""
    from intentdesk.core.learning.feature_cache import content_key

    heard: list[dict[str, float]] = []
    change_speed = audio.change_speed

    def counted(wave, rate, factor):
        heard[-1][content_key(wave)] = factor
        return change_speed(wave, rate, factor)

    monkeypatch.setattr(audio, "change_speed", counted)
    for seed in (0, 1):
        heard.append({})
        monkeypatch.setenv("INTENTDESK_CACHE", str(tmp_path / f"cache{seed}"))
        train(learnable.root, tmp_path / f"m{seed}", quick(tiny_wav2vec2, epochs=1, learn_from_all=False,
                                                            seed=seed))
    first, second = heard
    both = set(first) & set(second)
    assert both and set(first) != set(second)  # another split, with clips in common
    assert {key: first[key] for key in both} == {key: second[key] for key in both}
    assert set(first.values()) == {0.9, 1.1}


def test_whisper_window_is_fitted_to_the_longest_clip(tmp_path, tiny_whisper):
    """Clips of at most 0.6 s: a 2 s window (the floor), not the 8 s of max_seconds."""
    from intentdesk.core.data.importers import import_into

    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=6)))
    result = train(store.root, tmp_path / "w", quick(tiny_whisper, epochs=2, max_seconds=8))
    config = json.loads((result.output_dir / "config.json").read_text())
    extractor = json.loads((result.output_dir / "preprocessor_config.json").read_text())
    assert config["max_source_positions"] == 100 and extractor["chunk_length"] == 2


def test_whisper_window_grows_with_a_longer_clip_up_to_max_seconds(tmp_path, tiny_whisper):
    from intentdesk.core.data.importers import import_into

    source = write_tone_folder(tmp_path / "src", per_label=6)
    sf.write(source / "low" / "long.wav", tone(220, 4.3), 16000)
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(source))
    result = train(store.root, tmp_path / "w", quick(tiny_whisper, epochs=1, max_seconds=8))
    assert json.loads((result.output_dir / "preprocessor_config.json").read_text())["chunk_length"] == 5
    capped = train(store.root, tmp_path / "c", quick(tiny_whisper, epochs=1, max_seconds=3))
    assert json.loads((capped.output_dir / "preprocessor_config.json").read_text())["chunk_length"] == 3


def test_a_head_that_is_not_projector_and_classifier_is_refused():
    class Config:
        model_type = "ast"

    class Model:
        config = Config()
        classifier = object()

    with pytest.raises(ModelError, match="Full mode"):
        check_pooled_support(Model())


def test_quick_learns_from_all_clips_at_the_end_and_keeps_the_honest_scores(learnable, tiny_wav2vec2, tmp_path):
    """The saved head differs from the one the eval split chose (it also learned from the eval
    clips); the recorded scores are the first training's; switching it off saves the chosen one."""
    from safetensors.torch import load_file

    events = []
    on = train(learnable.root, tmp_path / "on", quick(tiny_wav2vec2, epochs=6), events.append)
    off = train(learnable.root, tmp_path / "off", quick(tiny_wav2vec2, epochs=6, learn_from_all=False))
    assert on.learned_from_all and not off.learned_from_all
    assert on.accuracy == pytest.approx(off.accuracy) and on.history == off.history
    assert json.loads((tmp_path / "on" / "metrics.json").read_text())["learned_from_all"] is True
    weights_on = load_file(tmp_path / "on" / "model.safetensors")
    weights_off = load_file(tmp_path / "off" / "model.safetensors")
    assert not np.allclose(weights_on["classifier.weight"].numpy(), weights_off["classifier.weight"].numpy())
    assert any("Learning from all" in getattr(e, "stage", "") for e in events)


def test_cancel_while_learning_from_all_keeps_the_chosen_head(learnable, tiny_wav2vec2, tmp_path):
    import threading

    from safetensors.torch import load_file

    from intentdesk.core.events import StageEvent

    cancel = threading.Event()

    def cancel_at_the_final_pass(event):
        if isinstance(event, StageEvent) and "Learning from all" in event.stage:
            cancel.set()

    cancelled = train(learnable.root, tmp_path / "c", quick(tiny_wav2vec2, epochs=4), cancel_at_the_final_pass,
                      cancel)
    train(learnable.root, tmp_path / "k", quick(tiny_wav2vec2, epochs=4, learn_from_all=False))
    assert cancelled.cancelled and not cancelled.learned_from_all and cancelled.path is not None
    first, second = load_file(tmp_path / "c" / "model.safetensors"), load_file(tmp_path / "k" / "model.safetensors")
    assert np.allclose(first["classifier.weight"].numpy(), second["classifier.weight"].numpy(), atol=1e-6)
