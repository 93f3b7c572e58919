"""Transcripts (metadata.csv columns) and typed phrases (phrases.csv) in the dataset (issue #14)."""

from __future__ import annotations

import csv
import threading

import pytest

from intentdesk.core.data.importers import import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError


def test_transcripts_are_columns_and_user_corrections_stay(tone_dataset):
    store = tone_dataset
    names = [c.file_name for c in store.clips[:3]]
    assert store.texts.set_transcripts({names[0]: "high  tone", names[1]: "low"}, "asr-a") == 2
    assert store.texts.set_transcripts({names[1]: "low tone please"}, "user") == 1
    assert store.texts.set_transcripts({names[0]: "again", names[1]: "overwritten?"}, "asr-b") == 1
    again = DatasetStore.open(store.root)
    first, second = again.find(names[0]), again.find(names[1])
    assert (first.transcript, first.transcript_by) == ("again", "asr-b")
    assert (second.transcript, second.transcript_by) == ("low tone please", "user")
    assert again.find(names[2]).transcript == "" and again.find(names[2]).transcript_by == ""
    with open(store.root / "metadata.csv", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:2] == ["file_name", "label"] and {"transcript", "transcript_by"} <= set(header)
    assert store.texts.set_transcripts({"clips/none/x.wav": "ghost"}, "asr-a") == 0
    with pytest.raises(DatasetError):
        store.texts.set_transcripts({names[0]: "x"}, "")


def test_transcripts_follow_a_relabel(tone_dataset):
    clip = tone_dataset.clips[0]
    tone_dataset.texts.set_transcripts({clip.file_name: "hello"}, "user")
    moved = tone_dataset.relabel([clip.file_name], "other")[0]
    assert (moved.transcript, moved.transcript_by) == ("hello", "user")


def test_phrases_add_remove_and_survive_reopen(tone_dataset):
    store = tone_dataset
    assert store.texts.phrases() == []
    assert store.texts.add_phrases("high", ["  a high   sound ", "", "beep beep"]) == 2
    assert store.texts.add_phrases("high", ["A high sound"]) == 0  # already there (case aside)
    assert store.texts.add_phrases("brand new", ["a label with no clips yet"]) == 1
    assert DatasetStore.open(store.root).texts.phrases() == [("high", "a high sound"), ("high", "beep beep"),
                                                        ("brand new", "a label with no clips yet")]
    assert store.texts.remove_phrases([("high", "beep beep"), ("low", "nope")]) == 1
    assert store.texts.phrases() == [("high", "a high sound"), ("brand new", "a label with no clips yet")]
    with pytest.raises(DatasetError):
        store.texts.add_phrases("../evil", ["x"])
    with pytest.raises(DatasetError):
        store.texts.add_phrases("high", ["x" * 600])
    assert store.texts.remove_phrases(store.texts.phrases()) == 2
    assert not (store.root / "phrases.csv").exists() and store.texts.phrases() == []


def test_phrases_are_written_safely_by_concurrent_writers(tone_dataset):
    def add(n: int) -> None:
        DatasetStore.open(tone_dataset.root).texts.add_phrases("high", [f"phrase {n} {i}" for i in range(5)])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tone_dataset.texts.phrases()) == 20


def test_a_damaged_phrases_file_is_named(tone_dataset):
    (tone_dataset.root / "phrases.csv").write_text("words\nhello\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="phrases.csv.*label,text"):
        tone_dataset.texts.phrases()


def test_import_of_an_audiofolder_brings_phrases_and_transcripts(tone_dataset, tmp_path):
    clip = tone_dataset.clips[0]
    tone_dataset.texts.set_transcripts({clip.file_name: "high tone"}, "user")
    tone_dataset.texts.add_phrases("high", ["very high"])
    tone_dataset.texts.add_phrases("low", ["very low"])
    copy = DatasetStore.create(tmp_path / "copy")
    report = import_into(copy, str(tone_dataset.root))
    assert not report.warnings
    assert copy.texts.phrases() == [("high", "very high"), ("low", "very low")]
    assert [(c.transcript, c.transcript_by) for c in copy.clips if c.transcript] == [("high tone", "user")]


def test_one_bad_row_of_an_imported_phrases_csv_skips_only_itself(tone_dataset, tmp_path):
    tone_dataset.texts.add_phrases("high", ["very high"])
    with (tone_dataset.root / "phrases.csv").open("a", encoding="utf-8") as handle:
        handle.write("../../etc,hello\nlow,very low\n")
    copy = DatasetStore.create(tmp_path / "copy")
    report = import_into(copy, str(tone_dataset.root))
    assert copy.texts.phrases() == [("high", "very high"), ("low", "very low")]
    assert len(report.warnings) == 1 and "line 3" in report.warnings[0]


def test_audiofolder_still_loads_with_texts(tone_dataset):
    datasets = pytest.importorskip("datasets")
    tone_dataset.texts.set_transcripts({tone_dataset.clips[0].file_name: "hello"}, "user")
    tone_dataset.texts.add_phrases("high", ["very high"])
    data = datasets.load_dataset("audiofolder", data_dir=str(tone_dataset.root), split="train")
    data = data.cast_column("audio", datasets.Audio(decode=False))
    assert len(data) == len(tone_dataset) and "transcript" in data.column_names
