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
