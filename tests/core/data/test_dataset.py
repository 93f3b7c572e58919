import csv
import errno
import os

import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.data.importers import import_into
from intentdesk.core.data.split import split_clips
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError, DiskFull
from tests.helpers import tone, write_tone_folder


def rows(store):
    with open(store.root / "metadata.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_add_array_writes_clip_and_metadata(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    clip = store.add_array(tone(440, 0.5), 16000, "balance")
    assert (store.root / clip.file_name).is_file()
    assert clip.file_name.startswith("clips/balance/")
    assert rows(store) == [{"file_name": clip.file_name, "label": "balance"}]
    assert DatasetStore.open(store.root).label_counts() == {"balance": 1}


def test_audiofolder_loader_reads_the_layout(tone_dataset):
    import datasets

    data = datasets.load_dataset("audiofolder", data_dir=str(tone_dataset.root), split="train")
    data = data.cast_column("audio", datasets.Audio(decode=False))
    assert len(data) == len(tone_dataset)
    assert sorted(set(data["label"])) == ["high", "low", "mid"]


def test_audiofolder_loader_still_reads_a_dataset_with_a_saved_model_inside(tone_dataset, tone_model, tmp_path):
    """Runs are saved under DATASET/models/; none of their file names may look like a split to the
    loader (a "training_settings.json" made it fail: "Instruction "train" corresponds to no data")."""
    import shutil

    import datasets

    root = tmp_path / "dataset"
    shutil.copytree(tone_dataset.root, root)
    shutil.copytree(tone_model, root / "models" / "2026-11-25_quick_run")
    assert (root / "models" / "2026-11-25_quick_run" / "run_settings.json").is_file()
    data = datasets.load_dataset("audiofolder", data_dir=str(root), split="train")
    assert len(data.cast_column("audio", datasets.Audio(decode=False))) == len(tone_dataset)


def test_extra_columns_are_preserved(tmp_path):
    src = tmp_path / "src"
    (src / "clips").mkdir(parents=True)
    sf.write(src / "clips" / "a.wav", tone(300, 0.5), 16000)
    sf.write(src / "clips" / "b.wav", tone(900, 0.5), 16000)
    (src / "metadata.csv").write_text("file_name,label,speaker,text\nclips/a.wav,low,ann,hello\n"
                                      "clips/b.wav,high,bob,\"hi, there\"\n")
    store = DatasetStore.create(tmp_path / "d")
    import_into(store, str(src))
    store.relabel([store.clips[0].file_name], "other")
    reread = rows(DatasetStore.open(store.root))
    assert [r["speaker"] for r in reread] == ["ann", "bob"]
    assert reread[1]["text"] == "hi, there"
    assert reread[0]["label"] == "other"


def test_relabel_moves_the_file(tone_dataset):
    clip = tone_dataset.clips[0]
    old_path = tone_dataset.path_of(clip)
    [moved] = tone_dataset.relabel([clip.file_name], "shifted")
    assert not old_path.exists()
    assert (tone_dataset.root / "clips" / "shifted" / clip.name).is_file()
    assert moved.label == "shifted"
    assert DatasetStore.open(tone_dataset.root).label_counts()["shifted"] == 1


def test_delete_and_undo_restore_file_and_row(tone_dataset):
    before = rows(tone_dataset)
    names = [c.file_name for c in tone_dataset.clips[:3]]
    tone_dataset.delete(names)
    assert len(tone_dataset) == len(before) - 3
    assert not any((tone_dataset.root / n).exists() for n in names)
    assert tone_dataset.can_undo()
    tone_dataset.undo_delete()
    assert sorted(map(tuple, (r.values() for r in rows(tone_dataset)))) == sorted(
        map(tuple, (r.values() for r in before)))
    assert all((tone_dataset.root / n).exists() for n in names)
    assert not tone_dataset.can_undo()


def test_unknown_clip_and_bad_label_change_nothing(tone_dataset):
    before = (tone_dataset.root / "metadata.csv").read_bytes()
    with pytest.raises(DatasetError, match="no clip"):
        tone_dataset.delete(["clips/none/x.wav"])
    with pytest.raises(DatasetError, match="invalid label"):
        tone_dataset.relabel([tone_dataset.clips[0].file_name], "../evil")
    assert (tone_dataset.root / "metadata.csv").read_bytes() == before


def test_import_skips_unreadable_files_and_names_them(tmp_path):
    src = write_tone_folder(tmp_path / "src", per_label=2)
    (src / "low" / "broken.wav").write_bytes(b"not audio at all")
    store = DatasetStore.create(tmp_path / "d")
    report = import_into(store, str(src))
    assert len(report.added) == 6
    assert len(report.skipped) == 1 and "broken.wav" in report.skipped[0]


def test_failed_import_leaves_dataset_unchanged(tmp_path, monkeypatch):
    """A disk error half way through moving files into clips/ takes the moved ones back out, and says
    what happened in one message (no OSError traceback)."""
    from intentdesk.core.data import journal

    store = DatasetStore.create(tmp_path / "d")
    store.add_array(tone(440, 0.5), 16000, "keep")
    before = (store.root / "metadata.csv").read_bytes()
    src = write_tone_folder(tmp_path / "src", per_label=3)
    real_move = journal.move_no_clobber
    calls = {"n": 0}

    def flaky_move(a, b):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(b))
        return real_move(a, b)

    monkeypatch.setattr(journal, "move_no_clobber", flaky_move)
    with pytest.raises(DiskFull, match=r"^the disk holding .*d is full .*nothing was changed$"):
        import_into(store, str(src))
    monkeypatch.setattr(journal, "move_no_clobber", real_move)
    assert calls["n"] == 4
    assert (store.root / "metadata.csv").read_bytes() == before
    reopened = DatasetStore.open(store.root)
    assert reopened.label_counts() == {"keep": 1}
    assert sorted(p.name for p in (store.root / "clips").rglob("*.wav")) == [reopened.clips[0].name]
    assert not (store.root / ".staging").exists()


def test_nothing_importable_is_an_error(tmp_path):
    src = tmp_path / "src" / "low"
    src.mkdir(parents=True)
    (src / "bad.wav").write_bytes(b"zzz")
    store = DatasetStore.create(tmp_path / "d")
    with pytest.raises(DatasetError, match="nothing could be imported.*bad.wav"):
        import_into(store, str(tmp_path / "src"))


def test_crash_between_audio_and_metadata_loses_nothing(tmp_path):
    """A clip written but not yet listed (crash) is adopted back when the dataset is opened."""
    store = DatasetStore.create(tmp_path / "d")
    orphan = store.root / "clips" / "freeze" / "take-1.wav"
    orphan.parent.mkdir(parents=True)
    sf.write(orphan, tone(500, 0.5), 16000)
    reopened = DatasetStore.open(store.root)
    assert reopened.label_counts() == {"freeze": 1}


def test_interrupted_relabel_is_repaired(tone_dataset):
    clip = tone_dataset.clips[0]
    target = tone_dataset.root / "clips" / "moved" / clip.name
    target.parent.mkdir()
    os.replace(tone_dataset.path_of(clip), target)  # the move happened, the metadata write did not
    reopened = DatasetStore.open(tone_dataset.root)
    assert reopened.find(f"clips/moved/{clip.name}").label == "moved"
    assert not reopened.missing_files()


def test_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="not an IntentDesk dataset"):
        DatasetStore.open(tmp_path)


def test_metadata_without_label_column(tmp_path):
    (tmp_path / "metadata.csv").write_text("file_name,intent\nx.wav,a\n")
    with pytest.raises(DatasetError, match="missing column"):
        DatasetStore.open(tmp_path)


def test_split_is_stratified_and_stable(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    for label in ("a", "b", "c"):
        for n in range(10):
            store.add_array(tone(200 + 100 * n, 0.3, seed=n), 16000, label, stem=f"{label}{n}")
    train, evaluation = split_clips(store.clips, 0.2, seed=0)
    assert {c.label for c in evaluation} == {"a", "b", "c"}
    assert len(train) + len(evaluation) == 30
    before = {c.file_name for c in evaluation}
    for n in range(10, 20):
        store.add_array(tone(200 + 50 * n, 0.3, seed=n), 16000, "a", stem=f"a{n}")
    _, evaluation_after = split_clips(store.clips, 0.2, seed=0)
    assert before <= {c.file_name for c in evaluation_after}


def test_every_label_with_two_clips_gets_an_eval_clip(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    for label in ("a", "b"):
        for n in range(2):
            store.add_array(tone(300 + n * 50, 0.3, seed=n), 16000, label, stem=f"{label}{n}")
    train, evaluation = split_clips(store.clips, 0.2, 0)
    assert sorted(c.label for c in evaluation) == ["a", "b"]
    assert sorted(c.label for c in train) == ["a", "b"]


def test_explicit_split_column_wins(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    for n in range(6):
        store.add_array(tone(300, 0.3, seed=n), 16000, "a", stem=f"a{n}",
                        extra={"split": "test" if n == 0 else "train"})
    train, evaluation = split_clips(store.clips, 0.5, 0)
    assert [c.name for c in evaluation] == ["a0.wav"]


def test_hub_import_offline_gives_clear_message(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    with pytest.raises(DatasetError, match="hub cannot be reached"):
        import_into(store, "PolyAI/minds14", hub_config="en-US")
    assert len(DatasetStore.open(store.root)) == 0


def test_hub_import_maps_class_label_names(tmp_path):
    """The hub path, fed by a local dataset with the MInDS-14 shape (8 kHz audio, ClassLabel)."""
    import io

    import datasets

    payloads = []
    for n in range(4):
        buffer = io.BytesIO()
        sf.write(buffer, tone(300 + 400 * (n % 2), 0.5, 8000, seed=n), 8000, format="WAV")
        payloads.append({"bytes": buffer.getvalue(), "path": f"clip{n}.wav"})
    features = datasets.Features({
        "audio": datasets.Audio(sampling_rate=8000, decode=False),
        "intent_class": datasets.ClassLabel(names=["abroad", "balance"]),
        "transcription": datasets.Value("string"),
    })
    local = datasets.Dataset.from_dict(
        {"audio": payloads, "intent_class": [0, 1, 0, 1], "transcription": ["a", "b", "c", "d"]}, features=features)
    store = DatasetStore.create(tmp_path / "d")
    from intentdesk.core.data.importers import import_hub

    report = import_hub(store, "PolyAI/minds14", config="en-US", loader=lambda *a, **k: local)
    assert len(report.added) == 4
    assert store.label_counts() == {"abroad": 2, "balance": 2}
    assert {r["transcription"] for r in rows(store)} == {"a", "b", "c", "d"}
    assert np.isclose(sf.info(str(store.path_of(store.clips[0]))).samplerate, 8000)
