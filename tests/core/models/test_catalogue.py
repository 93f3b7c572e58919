"""The Models catalogue (issue 21): each model's status in plain words, the offline reason a button
gives instead of failing, and a download with real byte progress and a clean cancel, all offline
(HF_HUB_OFFLINE=1) and against a fake hub."""

import threading

import pytest

from intentdesk.core.errors import ModelUnavailable
from intentdesk.core.models import catalogue, references
from intentdesk.core.models.catalogue import BASE_MODEL, RECOGNISER, TEXT_ENCODER, State
from intentdesk.core.models.hub import OFFLINE_HINT
from tests.models_hub import cached_model, model_folder


@pytest.mark.parametrize("role", [BASE_MODEL, RECOGNISER, TEXT_ENCODER], ids=lambda role: role.key)
def test_a_local_folder_of_the_right_kind_is_ready(tmp_path, role):
    status = catalogue.status_of(role, str(model_folder(tmp_path / "model", role.kind)))
    assert status.state is State.LOCAL and status.ready
    assert catalogue.missing_reason(role, str(tmp_path / "model"), reachable=lambda: False) is None


def test_a_missing_folder_says_so_and_what_to_do(tmp_path, hf_cache):
    status = catalogue.status_of(RECOGNISER, str(tmp_path / "gone"))
    assert status.state is State.LOCAL_BAD and not status.ready
    assert "folder not found" in status.text and "choose the speech recogniser's folder again" in status.text
    reason = catalogue.missing_reason(RECOGNISER, str(tmp_path / "gone"), reachable=lambda: True)
    assert reason.startswith("the speech recogniser folder cannot be used:"), "a bad folder is never the network's"


@pytest.mark.parametrize(("role", "wrong_kind", "says"), [
    (TEXT_ENCODER, "recogniser", "not a text encoder folder"),
    (RECOGNISER, "base", "is a Wav2Vec2ForPreTraining, not a speech recogniser"),
    (BASE_MODEL, "text_encoder", "no preprocessor_config.json"),
], ids=["recogniser-as-encoder", "base-as-recogniser", "encoder-as-base"])
def test_a_folder_of_another_kind_is_not_usable(tmp_path, role, wrong_kind, says):
    status = catalogue.status_of(role, str(model_folder(tmp_path / "model", wrong_kind)))
    assert status.state is State.LOCAL_BAD and says in status.text


def test_a_dataset_folder_is_not_a_model(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "metadata.csv").write_text("file_name,label\n")
    assert "is a dataset folder, not a model" in catalogue.status_of(BASE_MODEL, str(tmp_path / "data")).text


def test_a_cached_hub_id_is_downloaded_and_an_uncached_one_is_not(hf_cache):
    cached_model(hf_cache, "org/asr", "recogniser")
    assert catalogue.status_of(RECOGNISER, "org/asr").state is State.DOWNLOADED
    assert catalogue.missing_reason(RECOGNISER, "org/asr", reachable=lambda: False) is None
    missing = catalogue.status_of(RECOGNISER, "org/other")
    assert missing.state is State.NOT_DOWNLOADED and "about" not in missing.text, "no size for an unknown model"


def test_the_default_that_is_not_downloaded_says_its_size(hf_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    status = catalogue.status_of(RECOGNISER, RECOGNISER.default)
    assert status.text == "Not downloaded: needs the internet once (about 151 MB)"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "set to work offline" in catalogue.status_of(RECOGNISER, RECOGNISER.default).text


def test_a_cache_with_the_config_but_no_weights_is_not_downloaded(hf_cache):
    snapshot = cached_model(hf_cache, "org/asr", "recogniser")
    (snapshot / "model.safetensors").unlink()
    assert catalogue.status_of(RECOGNISER, "org/asr").state is State.NOT_DOWNLOADED


def test_missing_reason_blames_the_network_only_when_the_hub_is_out_of_reach(hf_cache):
    assert catalogue.missing_reason(TEXT_ENCODER, "org/enc", reachable=lambda: True) is None
    reason = catalogue.missing_reason(TEXT_ENCODER, "org/enc", reachable=lambda: False)
    assert reason == f"the text encoder org/enc is not downloaded and {OFFLINE_HINT}"


def test_download_offline_is_one_clear_line(hf_cache):
    """HF_HUB_OFFLINE=1 (the tests' setting): no retries, the offline advice."""
    with pytest.raises(ModelUnavailable) as caught:
        catalogue.download("org/asr", cancel=threading.Event())
    assert str(caught.value) == f"cannot download the model org/asr; {OFFLINE_HINT}"
    assert "\n" not in str(caught.value)


def test_download_of_an_unknown_name_says_check_the_name(fake_hub):
    with pytest.raises(ModelUnavailable, match="no public model org/typo; check the name"):
        catalogue.download("org/typo")


def test_download_reports_bytes_and_leaves_what_loading_finds(fake_hub, hf_cache):
    fake_hub.add("org/asr", weights=20_000, extra={"tf_model.h5": b"x" * 50_000, "onnx/model.onnx": b"x"})
    seen = []
    folder = catalogue.download("org/asr", seen.append)
    files = fake_hub.repos["org/asr"]
    total = sum(len(data) for name, data in files.items() if name.endswith((".json", ".safetensors")))
    assert seen[-1].done == seen[-1].total == total and seen[-1].files_done == seen[-1].files_total == 4
    assert [p.done for p in seen] == sorted(p.done for p in seen), "progress only moves forward"
    assert len({p.done for p in seen}) > 20, "bytes within the weights file are reported, not just files"
    assert "tf_model.h5" not in fake_hub.fetched and "onnx/model.onnx" not in fake_hub.fetched
    assert fake_hub.fetched[-1] == "model.safetensors", "the small files first, the long weights last"
    assert catalogue.status_of(RECOGNISER, "org/asr").state is State.DOWNLOADED
    assert references.hub_snapshot("org/asr", "the recogniser", "hint") == folder, "offline loading finds it"


def test_cancel_stops_inside_a_file_and_leaves_no_half_file(fake_hub, hf_cache):
    fake_hub.add("org/asr", weights=50_000)
    cancel, seen = threading.Event(), []

    def report(progress):
        seen.append(progress)
        if progress.file == "model.safetensors" and progress.done > progress.total // 2:
            cancel.set()  # the Cancel button, halfway through the weights

    assert catalogue.download("org/asr", report, cancel) is None
    repo = hf_cache / "models--org--asr"
    assert not list(repo.rglob("*.incomplete")), "the cut-off weights file is removed"
    assert not (repo / "blobs" / "model.safetensors").exists()
    assert not (repo / "refs" / "main").exists(), "the cache does not call the model downloaded"
    assert catalogue.status_of(RECOGNISER, "org/asr").state is State.NOT_DOWNLOADED
    assert seen[-1].done < seen[-1].total


def test_only_old_bin_weights_are_fetched_when_there_are_no_safetensors():
    listing = [("config.json", 10), ("pytorch_model.bin", 500), ("tf_model.h5", 400), ("vocab.txt", 5)]
    assert [name for name, _ in catalogue.files_to_download(listing)] == ["vocab.txt", "config.json",
                                                                         "pytorch_model.bin"]
    listing.append(("model.safetensors", 450))
    assert "pytorch_model.bin" not in [name for name, _ in catalogue.files_to_download(listing)]
