"""An import on a full disk (issue 26, item 6): it stops at the first write that does not fit, says
the disk is full, and leaves the dataset exactly as it was; it never reports good clips as unreadable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from intentdesk.cli import main
from intentdesk.core.data import duplicates, journal
from intentdesk.core.data import store as dataset
from intentdesk.core.data.importers import import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DiskFull
from tests.disk_full import fill, no_space, small_disk
from tests.helpers import tone, write_tone_folder

NEW_TONES = {"alpha": 350.0, "beta": 900.0, "gamma": 1700.0}  # new labels: the import must make their folders


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under `folder`, hidden ones included."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def dataset_with_everything(tmp_path) -> DatasetStore:
    """A dataset with clips, typed phrases and a hash cache: all of it must survive a failed import."""
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(write_tone_folder(tmp_path / "first", per_label=2)))
    store.texts.add_phrases("high", ["a high tone please"])
    assert {".intentdesk-hashes.json", "metadata.csv", "phrases.csv"} <= set(snapshot(store.root))
    return store


def copies_until_full(monkeypatch, budget: int) -> list[Path]:
    """Staging copies fit until `budget` bytes are used; the next one leaves a short file and fails."""
    real_copy, used, copied = journal.copy_hashing, [0], []

    def copy(source: Path, target: Path) -> str:
        size = source.stat().st_size
        if used[0] + size > budget:
            target.write_bytes(source.read_bytes()[: budget - used[0]])
            raise no_space()  # a write into the dataset's disk names no file
        used[0] += size
        copied.append(target)
        return real_copy(source, target)

    monkeypatch.setattr(journal, "copy_hashing", copy)
    return copied


def test_a_full_disk_while_copying_stops_the_import_and_changes_nothing(tmp_path, monkeypatch,
                                                                        dataset_with_everything):
    store = dataset_with_everything
    before = snapshot(store.root)
    source = write_tone_folder(tmp_path / "more", per_label=4, labels=NEW_TONES)
    copied = copies_until_full(monkeypatch, budget=5 * (source / "alpha" / "alpha0.wav").stat().st_size)
    with pytest.raises(DiskFull, match=rf"^the disk holding {store.root} is full \(.* MB free\): free some space "
                                       "and try again; nothing was changed$"):
        import_into(store, str(source))
    assert len(copied) >= 4  # clips were copied before the disk filled: they are gone again
    assert snapshot(store.root) == before


def test_a_full_disk_when_the_rows_are_written_takes_the_clips_and_their_folders_back(
        tmp_path, monkeypatch, dataset_with_everything):
    store = dataset_with_everything
    before = snapshot(store.root)

    def metadata_does_not_fit(path, *_args):
        raise no_space(path)

    monkeypatch.setattr(dataset.metadata_csv, "write_metadata", metadata_does_not_fit)
    with pytest.raises(DiskFull, match="nothing was changed"):
        import_into(store, str(write_tone_folder(tmp_path / "more", per_label=2, labels=NEW_TONES)))
    assert snapshot(store.root) == before  # no clips/alpha/ left behind, hash cache as it was
    monkeypatch.undo()
    assert len(DatasetStore.open(store.root)) == 6


def test_the_cli_says_it_once_and_exits_2(tmp_path, monkeypatch, capsys, dataset_with_everything):
    store = dataset_with_everything
    before = snapshot(store.root)
    copies_until_full(monkeypatch, budget=20_000)
    code = main(["import", str(write_tone_folder(tmp_path / "more", per_label=4, labels=NEW_TONES)), str(store.root)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith(f"error: the disk holding {store.root} is full") and err.count("\n") == 1
    assert "cannot read it" not in err and "skipped" not in err
    assert snapshot(store.root) == before


def test_a_new_dataset_on_a_full_disk_is_not_left_behind(tmp_path, monkeypatch, capsys):
    copies_until_full(monkeypatch, budget=0)
    code = main(["import", str(write_tone_folder(tmp_path / "src", per_label=1)), str(tmp_path / "new" / "data")])
    assert code == 2 and "is full" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_a_full_disk_after_the_clips_are_in_only_keeps_the_cache_as_it_was(tmp_path, monkeypatch,
                                                                           dataset_with_everything):
    """The hash cache is written last; when it no longer fits, the import stands and the old cache
    (still right for the clips it lists) stays."""
    store = dataset_with_everything
    cache = (store.root / ".intentdesk-hashes.json").read_bytes()

    def cache_does_not_fit(path, *_args, **_kwargs):
        raise no_space(path)

    monkeypatch.setattr(duplicates, "atomic_open", cache_does_not_fit)
    report = import_into(store, str(write_tone_folder(tmp_path / "more", per_label=1, labels=NEW_TONES)))
    assert len(report.added) == 3
    assert (store.root / ".intentdesk-hashes.json").read_bytes() == cache
    assert json.loads(cache)["files"].keys() <= {c.file_name for c in DatasetStore.open(store.root).clips}


def test_a_take_that_does_not_fit_leaves_no_label_folder(tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    before = snapshot(store.root)

    def take_does_not_fit(path, _data):
        raise no_space(path)

    monkeypatch.setattr(dataset, "atomic_create_bytes", take_does_not_fit)
    with pytest.raises(DiskFull, match="nothing was changed"):
        store.add_array(tone(440, 0.5), 16000, "newlabel")
    assert snapshot(store.root) == before


def test_on_a_real_small_disk(tmp_path, capsys):
    """The same on a 2 MB tmpfs (skipped where mounting is not permitted)."""
    with small_disk(tmp_path / "disk") as disk:
        store = DatasetStore.create(disk / "data")
        import_into(store, str(write_tone_folder(tmp_path / "first", per_label=2)))
        store.texts.add_phrases("high", ["a high tone please"])
        before = snapshot(store.root)
        source = write_tone_folder(tmp_path / "more", per_label=10, labels=NEW_TONES)
        fill(disk, leave=150_000)  # room for a few of the 30 clips, not for all
        code = main(["import", str(source), str(store.root)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"error: the disk holding {store.root} is full (")
        assert "cannot read" not in err
        assert snapshot(store.root) == before
        (disk / "filler").unlink()
        assert main(["import", str(source), str(store.root)]) == 0  # with space again, the same import works
        assert json.loads(capsys.readouterr().out)["added"] == 30
        shutil.rmtree(store.root)
