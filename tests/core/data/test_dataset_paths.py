"""Path traversal (reliability issue #12, item 8): every store operation stays inside the dataset.

A dataset folder may come from someone else (a download, a shared drive). Whatever its
metadata.csv, trash or clips/ links say, no operation may read, move or write a file outside
`clips/` and `.trash/`: open, add_array, add_files, relabel, delete, undo and import.
"""

import json
import os
from pathlib import Path

import pytest
import soundfile as sf

from intentdesk.core.data.importers import import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError
from tests.helpers import tone


@pytest.fixture
def outside(tmp_path) -> Path:
    """A precious audio file outside any dataset."""
    path = tmp_path / "elsewhere" / "secret.wav"
    path.parent.mkdir()
    sf.write(path, tone(600, 0.4), 16000)
    return path


@pytest.fixture
def store(tmp_path) -> DatasetStore:
    store = DatasetStore.create(tmp_path / "ds")
    store.add_array(tone(300, 0.4), 16000, "a", stem="one")
    store.add_array(tone(900, 0.4, seed=1), 16000, "b", stem="two")
    return store


def hostile_rows(outside: Path) -> list[tuple[str, str]]:
    return [
        (str(outside), "a"),                                # absolute
        ("../elsewhere/secret.wav", "a"),                   # relative, outside
        ("clips/../../elsewhere/secret.wav", "a"),          # starts inside, climbs out
        ("clips/a/one.wav", "../../x"),                     # label that climbs out
        ("clips/a/one.wav", "x/y"),                         # label with a separator
        ("clips/a/one.wav", ".."),
        ("clips\\..\\..\\elsewhere\\secret.wav", "a"),      # Windows separators
        ("metadata.csv", "a"),                              # inside the dataset, but not a clip
    ]


@pytest.mark.parametrize("index", range(8))
def test_open_refuses_rows_outside_clips_and_labels_that_are_paths(tmp_path, store, outside, index):
    file_name, label = hostile_rows(outside)[index]
    text = f"file_name,label\nclips/b/two.wav,b\n\"{file_name}\",\"{label}\"\n"
    (store.root / "metadata.csv").write_text(text)
    with pytest.raises(DatasetError, match="metadata.csv, line 3: the row"):
        DatasetStore.open(store.root)
    with pytest.raises(DatasetError, match="line 3"):  # the open store re-reads before any change
        store.delete(["clips/b/two.wav"])
    assert (store.root / "metadata.csv").read_text() == text and outside.is_file()
    assert (store.root / "clips" / "b" / "two.wav").is_file()


def test_a_link_in_clips_to_a_file_outside_is_refused_by_every_operation(tmp_path, store, outside):
    link = store.root / "clips" / "a" / "link.wav"
    link.symlink_to(outside)
    secret = outside.read_bytes()
    reopened = DatasetStore.open(store.root)
    assert "clips/a/link.wav" not in {c.file_name for c in reopened.clips}  # never adopted
    with open(store.root / "metadata.csv", "a") as handle:
        handle.write("clips/a/link.wav,a\n")
    with pytest.raises(DatasetError, match="line 4: the row has file_name 'clips/a/link.wav', which is a link"):
        DatasetStore.open(store.root)
    for change in (lambda: store.relabel(["clips/a/link.wav"], "c"), lambda: store.delete(["clips/a/link.wav"]),
                   lambda: store.add_array(tone(440, 0.4), 16000, "c")):
        with pytest.raises(DatasetError, match="which is a link"):
            change()
    other = DatasetStore.create(tmp_path / "other")
    report = import_into(other, str(store.root))  # importing such a dataset does not copy the linked file
    assert sorted(c.name for c in report.added) == ["one.wav", "two.wav"]
    assert any("'clips/a/link.wav' is outside" in message for message in report.skipped)
    assert outside.read_bytes() == secret and os.listdir(outside.parent) == ["secret.wav"]


def test_a_label_folder_or_clips_folder_that_links_outside_is_never_written_through(tmp_path, store, outside):
    victim_dir = outside.parent
    (store.root / "clips" / "evil").symlink_to(victim_dir, target_is_directory=True)
    with pytest.raises(DatasetError, match="is a link or a file, not a label folder"):
        store.add_array(tone(440, 0.4), 16000, "evil")
    with pytest.raises(DatasetError, match="is a link or a file, not a label folder"):
        store.relabel(["clips/a/one.wav"], "evil")
    with pytest.raises(DatasetError, match="is a link or a file, not a label folder"):
        store.add_files([(outside, "evil", {})])
    assert DatasetStore.open(store.root).label_counts() == {"a": 1, "b": 1}  # the link is not adopted
    bare = DatasetStore.create(tmp_path / "bare")
    (bare.root / "clips").rmdir()
    (bare.root / "clips").symlink_to(victim_dir, target_is_directory=True)
    with pytest.raises(DatasetError, match="clips: is a link or a file"):
        bare.add_array(tone(440, 0.4), 16000, "a")
    assert sorted(os.listdir(victim_dir)) == ["secret.wav"]


def test_add_files_and_add_array_keep_names_and_labels_inside(tmp_path, store, outside):
    clip = store.add_array(tone(440, 0.4), 16000, "c", stem="../../../escape")
    assert store.path_of(clip).resolve().parent == (store.root / "clips" / "c").resolve()
    report = store.add_files([(outside, "../../pwned", {}), (outside, "/abs", {}), (outside, "..", {})])
    assert not report.added and len(report.skipped) == 3
    assert all("invalid label" in message for message in report.skipped)
    assert not any(p.name in {"pwned", "abs"} for p in tmp_path.rglob("*"))


def test_relabel_to_a_path_is_refused(store):
    for label in ("../x", "a/b", "..", "", "/tmp"):
        with pytest.raises(DatasetError, match="invalid label"):
            store.relabel(["clips/a/one.wav"], label)
    assert (store.root / "clips" / "a" / "one.wav").is_file()


@pytest.mark.parametrize("edit", [
    {"label": "../../../PWNED"},
    {"file_name": "../../../PWNED.wav"},
    {"file_name": "/tmp/PWNED.wav"},
    {"file_name": "clips/../../PWNED.wav"},
    {"label": "a/../../b"},
])
def test_undo_of_an_edited_trash_batch_never_writes_outside(tmp_path, store, edit):
    batch = store.delete(["clips/a/one.wav"])
    rows_file = store.root / ".trash" / batch / "rows.json"
    rows = json.loads(rows_file.read_text())
    rows[0].update(edit)
    rows_file.write_text(json.dumps(rows))
    with pytest.raises(DatasetError, match=r"rows.json, row 1: the row .* nothing was restored"):
        store.undo_delete()
    assert not any("PWNED" in str(p) for p in Path(tmp_path).parent.rglob("*PWNED*"))
    assert (store.root / ".trash" / batch / "clips" / "a" / "one.wav").is_file()  # still safe in the trash
    assert [c.file_name for c in DatasetStore.open(store.root).clips] == ["clips/b/two.wav"]


def test_a_trash_folder_that_links_outside_is_not_used(tmp_path, store, outside):
    (store.root / ".trash").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(DatasetError, match=r"\.trash: is a link or a file"):
        store.delete(["clips/a/one.wav"])
    assert sorted(os.listdir(outside.parent)) == ["secret.wav"]
    assert (store.root / "clips" / "a" / "one.wav").is_file() and len(DatasetStore.open(store.root)) == 2


def test_import_reads_nothing_outside_its_source(tmp_path, outside):
    src = tmp_path / "src"
    (src / "clips").mkdir(parents=True)
    sf.write(src / "clips" / "ok.wav", tone(300, 0.4), 16000)
    (src / "metadata.csv").write_text(
        "file_name,label\nclips/ok.wav,a\n"
        f"{outside},a\n../elsewhere/secret.wav,a\nclips/../../elsewhere/secret.wav,a\n")
    (src / "clips" / "link.wav").symlink_to(outside)
    with open(src / "metadata.csv", "a") as handle:
        handle.write("clips/link.wav,a\n")
    store = DatasetStore.create(tmp_path / "ds")
    report = import_into(store, str(src))
    assert [c.name for c in report.added] == ["ok.wav"]
    assert len(report.skipped) == 4 and all("outside" in message for message in report.skipped)
    folders = tmp_path / "folders"
    (folders / "a").mkdir(parents=True)
    sf.write(folders / "a" / "fine.wav", tone(500, 0.4), 16000)
    (folders / "a" / "leak.wav").symlink_to(outside)
    (folders / "b").symlink_to(outside.parent, target_is_directory=True)  # a label folder that is a link
    report = import_into(store, str(folders))
    assert [c.name for c in report.added] == ["fine.wav"]
    assert any("leak.wav: a link to" in message for message in report.skipped)
    assert store.label_counts() == {"a": 2}
