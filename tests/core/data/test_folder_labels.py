"""`intentdesk import` and the Label tab's drop share one rule for the labels folders give their clips."""

import itertools

import soundfile as sf

from intentdesk.core.data.importers import import_into, needs_a_label, own_label
from intentdesk.core.data.store import DatasetStore
from tests.helpers import RATE, tone

SEEDS = itertools.count(1)  # no two clips the same audio (a duplicate would not be imported twice)


def wavs(folder, count=2):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        seed = next(SEEDS)
        sf.write(folder / f"c{n}.wav", tone(300 + 40 * seed, 0.5, seed=seed), RATE)
    return folder


def test_a_folder_named_after_a_label_imports_with_it_and_differently_written_names_join_the_label(tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    import_into(store, str(wavs(tmp_path / "one" / "balance")))
    assert store.label_counts() == {"balance": 2}
    import_into(store, str(wavs(tmp_path / "two" / "Balance")))
    source = tmp_path / "three"
    wavs(source / "BALANCE ")
    wavs(source / "freeze")
    import_into(store, str(source))
    assert store.label_counts() == {"balance": 6, "freeze": 2}


def test_which_folders_need_a_label(tmp_path):
    assert own_label(wavs(tmp_path / "balance")) == "balance" and not needs_a_label(tmp_path / "balance")
    wavs(tmp_path / "a" / "freeze")
    assert own_label(tmp_path / "a") is None and not needs_a_label(tmp_path / "a"), \
        "a folder of label folders: its folders' names are the labels"
    assert own_label(wavs(tmp_path / "#takes?")) is None and needs_a_label(tmp_path / "#takes?")


def test_names_that_differ_only_in_spaces_or_capitals_are_one_label_in_one_import_and_for_one_file(tmp_path):
    """`Balance /` and `balance/` in one import, and single files given --label "Balance" then "balance ": one
    label each time (two folders before, which a case-insensitive disk then merges)."""
    store = DatasetStore.create(tmp_path / "data")
    source = tmp_path / "new"
    wavs(source / "Balance ")
    wavs(source / "balance")
    import_into(store, str(source))
    assert store.label_counts() == {"Balance": 4}
    single = wavs(tmp_path / "singles" / "x", count=2)
    import_into(store, str(single / "c0.wav"), label="freeze")
    import_into(store, str(single / "c1.wav"), label="FREEZE ")
    assert store.label_counts() == {"Balance": 4, "freeze": 2}
    assert sorted(p.name for p in (store.root / "clips").iterdir()) == ["Balance", "freeze"]
