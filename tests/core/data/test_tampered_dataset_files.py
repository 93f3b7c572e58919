"""Every file of a dataset folder is untrusted input (issue 26): datasets are handed around. metadata.csv and
phrases.csv are read within limits checked from the file's size before reading (then rows and value
lengths), with an error naming the file and the limit; the JSON files (content hashes, an import's
journal, a trash batch's rows) are read bounded too. Typical datasets stay far within the limits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from intentdesk import cli
from intentdesk.core.data import HASH_INDEX, JOURNAL, METADATA, PHRASES, STAGING, TRASH, TRASH_ROWS, phrases
from intentdesk.core.data.metadata_csv import METADATA_LIMITS, CsvLimits, check_rows_fit
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError
from tests.helpers import tone, write_tone_folder

NESTED = "[" * 100_000


@pytest.fixture
def store(tmp_path) -> DatasetStore:
    store = DatasetStore.create(tmp_path / "data")
    for label in ("a", "b"):
        store.add_array(tone(300 if label == "a" else 900, 0.4), 16000, label, stem="x")
    return store


def sparse(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space: reading it whole would cost `size` of memory."""
    with open(path, "wb") as handle:
        handle.truncate(size)


def one_line(error: DatasetError) -> str:
    message = str(error)
    assert len(message.splitlines()) == 1, message
    return message


# ------------------------------------------------------------------ metadata.csv
def test_a_huge_metadata_file_is_refused_from_its_size_without_reading_it(store):
    sparse(store.root / METADATA, 5 << 30)
    with pytest.raises(DatasetError) as error:
        DatasetStore.open(store.root)
    message = one_line(error.value)
    assert f"{store.root / METADATA}: 5 GB, over the 64 MB" in message and "200,000 clips" in message


def test_too_many_rows_are_refused_with_the_limit(tmp_path):
    lines = "".join(f"clips/a/{n}.wav,a\n" for n in range(METADATA_LIMITS.max_rows + 1))
    (tmp_path / METADATA).write_text("file_name,label\n" + lines)
    with pytest.raises(DatasetError) as error:
        DatasetStore.open(tmp_path)
    assert "lists more than 200,000 clips (line 200002)" in one_line(error.value)


def test_a_value_longer_than_csv_allows_is_named_with_its_line(store):
    with (store.root / METADATA).open("a") as handle:
        handle.write('clips/a/y.wav,a,"' + "x" * 200_000 + '"\n')
    with pytest.raises(DatasetError) as error:
        DatasetStore.open(store.root)
    assert "line 4: a value is longer than 131,072 characters" in one_line(error.value)


@pytest.mark.parametrize(("label", "expected"), [
    ("a ", "starts or ends with a space"),
    (" a", "starts or ends with a space"),
    ("a\x1b[2J", "control character"),
    ("a\u202eb", "control character"),
    ("a\u2028b", "control character"),
    ("é" * 150, "be that long"),  # 300 bytes: a folder name of 255 at most
    ("b" * 201, "longer than 200 characters"),
])
def test_a_label_people_cannot_read_as_written_is_refused_with_its_line(store, label, expected):
    text = (store.root / METADATA).read_text(encoding="utf-8")
    (store.root / METADATA).write_text(text + f'clips/a/y.wav,"{label}"\n', encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        DatasetStore.open(store.root)
    message = one_line(error.value)
    assert "metadata.csv, line 4: the row has label" in message and expected in message
    assert "\x1b" not in message and "\u202e" not in message


def test_a_typical_dataset_is_far_within_the_limits(tmp_path):
    """5,000 clips with transcripts and a few extra columns: about 0.5 MB, 2.5 % of the row limit."""
    (tmp_path / "clips" / "a").mkdir(parents=True)
    rows = "".join(f"clips/a/take-{n:05d}.wav,a,turn the kitchen lights on please,openai/whisper-base.en,ann,\n"
                   for n in range(5000))
    (tmp_path / METADATA).write_text("file_name,label,transcript,transcript_by,speaker,split\n" + rows)
    assert (tmp_path / METADATA).stat().st_size < METADATA_LIMITS.max_bytes / 100
    store = DatasetStore.open(tmp_path)
    assert len(store) == 5000 and store.clips[0].transcript == "turn the kitchen lights on please"


def test_a_file_that_could_not_be_read_back_is_never_written(tmp_path):
    small = CsvLimits(1 << 20, 3, "clips", "split them")
    check_rows_fit(tmp_path / METADATA, [["a", "b"]] * 3, small)
    with pytest.raises(DatasetError, match=r"would list 4 clips, over the 3 it may list; nothing was changed"):
        check_rows_fit(tmp_path / METADATA, [["a", "b"]] * 4, small)
    with pytest.raises(DatasetError, match="a value would be longer than 131,072 characters"):
        check_rows_fit(tmp_path / METADATA, [["a", "b" * 131_073]], small)


def test_a_transcript_too_long_to_read_back_changes_nothing(store):
    before = (store.root / METADATA).read_bytes()
    with pytest.raises(DatasetError, match="longer than 131,072 characters"):
        store.texts.set_transcripts({store.clips[0].file_name: "word " * 30_000}, "user")
    assert (store.root / METADATA).read_bytes() == before
    assert len(DatasetStore.open(store.root)) == 2


def test_train_on_a_tampered_dataset_is_one_line(store, tiny_wav2vec2, capsys, monkeypatch):
    monkeypatch.delenv("INTENTDESK_DEBUG", raising=False)
    sparse(store.root / METADATA, 5 << 30)
    code = cli.main(["train", str(store.root), "--base", str(tiny_wav2vec2), "--out", str(store.root / "models" / "m")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "over the 64 MB" in err and "unexpected" not in err, err


# ------------------------------------------------------------------ phrases.csv
def test_a_huge_phrases_file_is_refused_from_its_size(store):
    sparse(store.root / PHRASES, 1 << 30)  # 100k rows of 10k characters
    with pytest.raises(DatasetError) as error:
        store.texts.phrases()
    assert f"{store.root / PHRASES}: 1 GB, over the 8 MB" in one_line(error.value)
    with pytest.raises(DatasetError, match="over the 8 MB"):
        store.texts.add_phrases("a", ["hello"])


def test_too_many_phrases_are_refused(store):
    rows = "".join(f"a,phrase {n}\n" for n in range(phrases.LIMITS.max_rows + 1))
    (store.root / PHRASES).write_text("label,text\n" + rows)
    with pytest.raises(DatasetError, match="lists more than 50,000 phrases"):
        store.texts.phrases()


def test_a_phrase_longer_than_typed_phrases_may_be_is_named(store):
    (store.root / PHRASES).write_text("label,text\na,hello\nb," + "word " * 2000 + "\n")
    with pytest.raises(DatasetError) as error:
        store.texts.phrases()
    assert "phrases.csv, line 3: the row has a phrase of 9,999 characters, over the 500" in one_line(error.value)


def test_adding_phrases_beyond_the_limit_changes_nothing(store, monkeypatch):
    monkeypatch.setattr(phrases, "LIMITS", CsvLimits(8 << 20, 2, "phrases", "remove some phrases"))
    assert store.texts.add_phrases("a", ["one", "two"]) == 2
    before = (store.root / PHRASES).read_bytes()
    with pytest.raises(DatasetError, match="would list 3 phrases, over the 2"):
        store.texts.add_phrases("a", ["three"])
    assert (store.root / PHRASES).read_bytes() == before


@pytest.mark.parametrize("label", ["a\u202eb", "a\tb", "a\x1b[31m"])
def test_a_phrase_label_people_cannot_read_is_refused(store, label):
    (store.root / PHRASES).write_text(f'label,text\n"{label}",hello\n')
    with pytest.raises(DatasetError, match="line 2: the row has label"):
        store.texts.phrases()


# ------------------------------------------------------------------ the JSON files
@pytest.mark.parametrize("content", [NESTED, b"\xff\xfe", "[]", '{"files": [1]}', '{"files": {"x": 5}}',
                                     '{"files": {"clips/a/x.wav": [1, 2, 3]}}', "huge"])
def test_a_damaged_hash_cache_is_rebuilt_and_duplicates_are_still_found(store, tmp_path, content):
    if content == "huge":
        sparse(store.root / HASH_INDEX, 5 << 30)
    else:
        (store.root / HASH_INDEX).write_bytes(content if isinstance(content, bytes) else content.encode())
    source = write_tone_folder(tmp_path / "src", per_label=2)
    first = DatasetStore.open(store.root)
    from intentdesk.core.data.importers import import_into

    assert len(import_into(first, str(source)).added) == 6
    assert len(import_into(first, str(source)).duplicates) == 6
    cache = json.loads((store.root / HASH_INDEX).read_text())
    assert all(len(entry[2]) == 64 for entry in cache["files"].values())


@pytest.mark.parametrize("content", [NESTED, b"\xff", "5", '[{"file_name": 5}]', "huge"])
def test_a_damaged_import_journal_does_not_stop_the_dataset_from_opening(store, content):
    folder = store.root / STAGING / ("0123abcd" * 4)  # as a killed import leaves it: its folder and its lock file
    folder.mkdir(parents=True)
    (store.root / STAGING / f"{folder.name}.lock").touch()
    if content == "huge":
        sparse(folder / JOURNAL, 5 << 30)
    else:
        (folder / JOURNAL).write_bytes(content if isinstance(content, bytes) else content.encode())
    assert len(DatasetStore.open(store.root)) == 2
    assert not folder.exists()


@pytest.mark.parametrize(("content", "expected"), [
    (NESTED, "nested deeper than 32 levels"),
    (b"\xff", "not UTF-8 text"),
    ("huge", "over the 64 MB"),
    ('[{"file_name": "clips/a/x.wav", "label": "a\\u001b[2J"}]', "control character"),
])
def test_a_damaged_trash_batch_refuses_the_undo_and_moves_nothing(store, content, expected):
    store.delete([store.clips[0].file_name])
    batch = next((store.root / TRASH).iterdir())
    if content == "huge":
        sparse(batch / TRASH_ROWS, 5 << 30)
    else:
        (batch / TRASH_ROWS).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = sorted(os.listdir(batch))
    with pytest.raises(DatasetError) as error:
        store.undo_delete()
    message = one_line(error.value)
    assert str(batch / TRASH_ROWS) in message and expected in message
    assert sorted(os.listdir(batch)) == before and len(store) == 1


def test_importing_from_a_folder_with_a_huge_metadata_file_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("INTENTDESK_DEBUG", raising=False)
    source = tmp_path / "other"
    (source / "clips").mkdir(parents=True)
    sparse(source / METADATA, 5 << 30)
    code = cli.main(["import", str(source), str(tmp_path / "new")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "over the 64 MB" in err, err
    assert not (tmp_path / "new").exists()
