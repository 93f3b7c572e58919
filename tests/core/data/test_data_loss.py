"""Reliability issue #12 (data part): `intentdesk import` and the dataset store lose nothing, ever.

Each test reproduces one reported way of losing or silently changing data (or a sibling of it).
"""

import csv
import errno
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import soundfile as sf

from intentdesk.cli import main
from intentdesk.core.audio import io as audio
from intentdesk.core.data import journal, lock
from intentdesk.core.data import store as dataset
from intentdesk.core.data.importers import import_into, import_label_folders
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError
from tests.helpers import tone, write_tone_folder

ROOT = Path(__file__).resolve().parents[3]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_import(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(["import", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def rows(root: Path) -> list[dict]:
    with open(root / "metadata.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- 1. import never deletes what it did not create
def test_import_of_a_folder_into_itself_is_refused_and_deletes_nothing(tmp_path, capsys):
    recs = write_tone_folder(tmp_path / "recs", per_label=2)
    before = snapshot(recs)
    code, _, err = run_import(capsys, recs, recs)
    assert code == 2 and "is the dataset folder itself" in err and err.count("\n") == 1
    assert snapshot(recs) == before


def test_failed_import_into_an_existing_folder_keeps_everything_in_it(tmp_path, capsys):
    docs = tmp_path / "docs"
    (docs / "clips").mkdir(parents=True)
    (docs / "notes.txt").write_text("mine")
    (docs / "clips" / "old.txt").write_text("also mine")
    before = snapshot(docs)
    code, _, err = run_import(capsys, tmp_path / "typo", docs)
    assert code == 2 and "no such folder" in err
    assert snapshot(docs) == before and sorted(os.listdir(docs)) == ["clips", "notes.txt"]
    bad = tmp_path / "bad" / "x"
    bad.mkdir(parents=True)
    (bad / "a.wav").write_bytes(b"not audio")
    code, _, err = run_import(capsys, tmp_path / "bad", docs)  # fails after the dataset was created
    assert code == 2 and "nothing could be imported" in err
    assert snapshot(docs) == before and sorted(os.listdir(docs)) == ["clips", "notes.txt"]


def test_import_with_a_typo_into_the_current_folder_empties_nothing(tmp_path, capsys, monkeypatch):
    here = tmp_path / "somedir"
    here.mkdir()
    (here / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(here)
    code, _, _ = run_import(capsys, "typo", ".")
    assert code == 2
    assert os.listdir(here) == ["thesis.tex"]


def test_interrupted_import_removes_only_what_it_created(tmp_path, capsys, monkeypatch):
    """Ctrl-C in the middle of an import: an existing folder keeps exactly its files, a new one is gone."""
    src = write_tone_folder(tmp_path / "src", per_label=3)
    real_load = audio.load_audio
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_load(*args, **kwargs)

    monkeypatch.setattr(audio, "load_audio", interrupted)
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("keep")
    assert main(["import", str(src), str(existing)]) == 130
    assert snapshot(existing) == {"keep.txt": b"keep"} and os.listdir(existing) == ["keep.txt"]
    calls["n"] = 0
    assert main(["import", str(src), str(tmp_path / "new" / "deeper")]) == 130
    assert not (tmp_path / "new").exists()
    assert len(snapshot(src)) == 9  # the source is only ever read


def test_dataset_inside_the_source_or_source_inside_the_dataset_is_refused(tmp_path, capsys):
    recs = write_tone_folder(tmp_path / "recs", per_label=2)
    before = snapshot(recs)
    code, _, err = run_import(capsys, recs, recs / "dataset")
    assert code == 2 and "inside the source" in err
    assert snapshot(recs) == before and not (recs / "dataset").exists()
    code, imported, _ = run_import(capsys, recs, tmp_path / "ds")
    assert code == 0 and imported["added"] == 6
    code, _, err = run_import(capsys, tmp_path / "ds" / "clips", tmp_path / "ds")
    assert code == 2 and "inside the dataset folder" in err
    store = DatasetStore.open(tmp_path / "ds")
    with pytest.raises(DatasetError, match="is the dataset folder itself"):  # the GUI's drop of the dataset
        import_label_folders(store, store.root)
    assert len(DatasetStore.open(tmp_path / "ds")) == 6


# ---------------------------------------------------------------- 4. metadata content is preserved or refused
@pytest.mark.parametrize("text, expected", [
    ("file_name,label\nclips/a/x.wav,a,surplus\n", r"line 2: 3 values but the header has 2 columns"),
    ("file_name,label,note,note\nclips/a/x.wav,a,first,second\n", r"column 'note' twice"),
    ("file_name,label,\nclips/a/x.wav,a,kept?\n", r"column 3 has no name but holds values \(line 2\)"),
])
def test_metadata_that_would_lose_content_is_refused_and_left_alone(tmp_path, text, expected):
    store = DatasetStore.create(tmp_path / "d")
    store.add_array(tone(440, 0.4), 16000, "a", stem="x")
    (store.root / "metadata.csv").write_text(text)
    with pytest.raises(DatasetError, match=expected):
        DatasetStore.open(store.root)
    with pytest.raises(DatasetError, match=expected):  # an open store re-reads before it writes
        store.add_array(tone(500, 0.4), 16000, "a", stem="y")
    assert (store.root / "metadata.csv").read_text() == text


def test_empty_trailing_cells_and_extra_columns_survive_a_rewrite(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    store.add_array(tone(440, 0.4), 16000, "a", stem="x")
    (store.root / "metadata.csv").write_text("file_name,label,speaker\nclips/a/x.wav,a,ann,,\n")
    store = DatasetStore.open(store.root)
    store.add_array(tone(500, 0.4), 16000, "b", stem="y")
    assert rows(store.root) == [{"file_name": "clips/a/x.wav", "label": "a", "speaker": "ann"},
                                {"file_name": "clips/b/y.wav", "label": "b", "speaker": ""}]


# ---------------------------------------------------------------- 12. a broken row is named on open
@pytest.mark.parametrize("body, expected", [
    ("clips/a/x.wav\n", r"line 2: the row has no label"),
    ("clips/a/x.wav,a\n\n\nclips/a/y.wav,\n", r"line 5: the row has no label"),
    ('clips/a/x.wav,a\n"clips/a/y.wav,a\nclips/a/z.wav,a\n', r"line 3: .*spans lines \(an unclosed quote\?\)"),
    ("clips/a/x.wav,a\nclips/a/x.wav,b\n", r"line 3: .*again \(first on line 2\)"),
])
def test_rows_without_label_or_with_an_unclosed_quote_are_named_on_open(tmp_path, body, expected):
    (tmp_path / "metadata.csv").write_text("file_name,label\n" + body)
    with pytest.raises(DatasetError, match=expected):
        DatasetStore.open(tmp_path)


# ---------------------------------------------------------------- 15. encodings
def test_metadata_with_a_utf8_bom_opens(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    store.add_array(tone(440, 0.4), 16000, "café", stem="x")
    text = (store.root / "metadata.csv").read_text(encoding="utf-8")
    (store.root / "metadata.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert DatasetStore.open(store.root).label_counts() == {"café": 1}


def test_latin1_metadata_is_a_clear_error_in_a_dataset_and_in_an_import_source(tmp_path, capsys):
    src = tmp_path / "src"
    (src / "clips").mkdir(parents=True)
    sf.write(src / "clips" / "a.wav", tone(300, 0.4), 16000)
    (src / "metadata.csv").write_bytes("file_name,label\nclips/a.wav,caf\xe9\n".encode("latin-1"))
    code, _, err = run_import(capsys, src, tmp_path / "d")
    assert code == 2 and "metadata.csv: line 2 is not UTF-8 text; save it as UTF-8" in err
    assert not (tmp_path / "d").exists()
    with pytest.raises(DatasetError, match="line 2 is not UTF-8 text; save it as UTF-8"):
        DatasetStore.open(src)


# ---------------------------------------------------------------- 5. no duplicates after a re-run or a crash
def test_rerun_and_dataset_to_dataset_imports_add_no_duplicates(tmp_path, capsys):
    src = write_tone_folder(tmp_path / "src", per_label=3)
    assert run_import(capsys, src, tmp_path / "ds")[1]["added"] == 9
    code, again, err = run_import(capsys, src, tmp_path / "ds")
    assert code == 0 and (again["added"], again["duplicates"], again["clips"]) == (0, 9, 9)
    assert "9 file(s) already in the dataset" in err
    assert run_import(capsys, tmp_path / "ds", tmp_path / "copy")[1]["added"] == 9
    assert run_import(capsys, tmp_path / "ds", tmp_path / "copy")[1]["clips"] == 9
    assert len(list((tmp_path / "copy" / "clips").rglob("*.wav"))) == 9


def test_half_adopted_import_is_not_imported_twice(tmp_path):
    """Files that reached clips/ without their rows (a killed import) are adopted on open; a re-run
    of the same import must not add them a second time."""
    src = write_tone_folder(tmp_path / "src", per_label=4)
    store = DatasetStore.create(tmp_path / "ds")
    import_into(store, str(src))
    listed = (store.root / "metadata.csv").read_text().splitlines()
    (store.root / "metadata.csv").write_text("\n".join(listed[:6]) + "\n")  # 7 of 12 rows never written
    store = DatasetStore.open(store.root)
    assert len(store) == 12
    report = import_into(store, str(src))
    assert (len(report.added), len(report.duplicates)) == (0, 12)
    assert len(DatasetStore.open(store.root)) == 12


KILL_DURING_COMMIT = textwrap.dedent("""
    import os, sys
    from intentdesk.core.data import journal
    from intentdesk.core.data.placement import ClipFolder
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.data.importers import import_into, import_label_folders

    real_place, moved = ClipFolder.place, []
    def place(self, *args):
        moved.append(1)
        if len(moved) == int(sys.argv[3]):
            os._exit(9)  # killed: no except, no finally
        return real_place(self, *args)
    ClipFolder.place = place
    import_into(DatasetStore.open(sys.argv[2], create=True), sys.argv[1])
""")


def test_import_killed_while_moving_is_finished_by_the_next_open(tmp_path):
    src = tmp_path / "src"
    (src / "clips").mkdir(parents=True)
    lines = ["file_name,label,speaker"]
    for n in range(8):
        sf.write(src / "clips" / f"c{n}.wav", tone(300 + 40 * n, 0.3, seed=n), 16000)
        lines.append(f"clips/c{n}.wav,{'ab'[n % 2]},spk{n}")
    (src / "metadata.csv").write_text("\n".join(lines) + "\n")
    data = tmp_path / "ds"
    proc = subprocess.run([sys.executable, "-c", KILL_DURING_COMMIT, str(src), str(data), "5"], cwd=ROOT)
    assert proc.returncode == 9
    assert (data / ".staging").is_dir() and len(rows(data)) == 0  # killed after 4 of 8 moves
    store = DatasetStore.open(data)
    assert sorted(r["speaker"] for r in rows(data)) == [f"spk{n}" for n in range(8)]  # finished, extras kept
    assert not (data / ".staging").exists()
    report = import_into(store, str(src))
    assert (len(report.added), len(report.duplicates), len(store)) == (0, 8, 8)


def test_import_killed_while_copying_leaves_no_staging_and_no_clips(tmp_path):
    src = write_tone_folder(tmp_path / "src", per_label=2)
    data = tmp_path / "ds"
    DatasetStore.create(data)
    script = KILL_DURING_COMMIT.replace("ClipFolder.place = place", "journal.copy_hashing = lambda *a: os._exit(9)")
    proc = subprocess.run([sys.executable, "-c", script, str(src), str(data), "1"], cwd=ROOT)
    assert proc.returncode == 9 and (data / ".staging").is_dir()
    assert len(DatasetStore.open(data)) == 0
    assert sorted(os.listdir(data)) == [".intentdesk.lock", "clips", "metadata.csv"]


# ---------------------------------------------------------------- 11 / 14. one bad file or OS error
def test_a_file_deleted_between_check_and_copy_does_not_abort_the_import(tmp_path, monkeypatch):
    src = write_tone_folder(tmp_path / "src", per_label=2)
    victim = src / "low" / "low1.wav"
    real_load = audio.load_audio

    def racing(path, *args, **kwargs):  # another program deletes the source right after it was checked
        result = real_load(path, *args, **kwargs)
        if Path(kwargs.get("name") or path) == victim:
            victim.unlink()
        return result

    monkeypatch.setattr(audio, "load_audio", racing)
    store = DatasetStore.create(tmp_path / "ds")
    report = import_into(store, str(src))
    assert not victim.exists() and len(report.added) + len(report.skipped) == 6 and len(report.added) >= 5
    assert len(DatasetStore.open(store.root)) == len(report.added)


def test_colliding_long_names_stay_under_the_file_name_limit(tmp_path):
    src = tmp_path / "src"
    stem = "a" * 250  # 254 bytes with .wav: a legal name, but "-2" would make it 256
    for label in ("x", "y"):
        (src / label).mkdir(parents=True)
        sf.write(src / label / f"{stem}.wav", tone(300 if label == "x" else 900, 0.3), 16000)
    (src / "x" / ("é" * 125 + ".wav")).write_bytes((src / "x" / f"{stem}.wav").read_bytes()[:-2] + b"\x01\x00")
    store = DatasetStore.create(tmp_path / "ds")
    report = import_into(store, str(src))
    assert len(report.added) == 3 and not report.skipped
    assert all(len(store.path_of(c).name.encode()) <= dataset.MAX_STEM_BYTES + 16 for c in store.clips)
    assert len({c.name for c in store.clips}) == 3


def test_add_array_with_a_300_character_stem(tmp_path):
    store = DatasetStore.create(tmp_path / "d")
    clip = store.add_array(tone(440, 0.4), 16000, "a", stem="n" * 300)
    assert store.path_of(clip).is_file() and len(clip.name.encode()) < 200


def test_os_errors_become_dataset_errors_that_say_what_to_do(tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "d")
    before = snapshot(store.root)

    def denied(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(DatasetError, match=r"Permission denied \(check the permissions"):
        store.add_array(tone(440, 0.4), 16000, "a")
    monkeypatch.undo()
    assert snapshot(store.root) == before


def test_unreadable_source_is_skipped_and_unwritable_dataset_is_a_clear_error(tmp_path, monkeypatch):
    """Permission problems (simulated: the tests may run as root, who may read and write anything)."""
    src = write_tone_folder(tmp_path / "src", per_label=1)
    real_copy = journal.copy_hashing

    def copy(source, target):
        if source.name == "low0.wav":
            raise PermissionError(errno.EACCES, "Permission denied", str(source))
        return real_copy(source, target)

    monkeypatch.setattr(journal, "copy_hashing", copy)
    store = DatasetStore.create(tmp_path / "ds")
    report = import_into(store, str(src))
    assert len(report.added) == 2
    assert report.skipped == [f"{src / 'low' / 'low0.wav'}: cannot read it: Permission denied "
                              "(check the permissions of the file and its folder)"]

    class NoLock:  # what filelock meets in a folder this user cannot write to
        def __init__(self, path, *args, **kwargs):
            self.path = path

        def acquire(self, *args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", self.path)

    monkeypatch.setattr(lock, "FileLock", NoLock)
    readonly = DatasetStore.open(store.root)  # reading (training, evaluating) still works
    assert len(readonly) == 2
    with pytest.raises(DatasetError, match=r"intentdesk.lock: cannot change the dataset .*Permission denied"):
        readonly.add_array(tone(440, 0.4), 16000, "a")


# ---------------------------------------------------------------- 20. long clips are imported with a warning
def test_import_warns_about_a_clip_longer_than_the_limit(tmp_path, capsys):
    src = tmp_path / "src" / "talk"
    src.mkdir(parents=True)
    seconds = audio.DEFAULT_MAX_SECONDS + 2
    sf.write(src / "lecture.wav", tone(300, seconds, 8000), 8000, subtype="PCM_16")
    sf.write(src / "short.wav", tone(300, 0.5, 8000), 8000)
    code, imported, err = run_import(capsys, tmp_path / "src", tmp_path / "ds")
    assert code == 0 and imported["added"] == 2 and imported["warnings"] == 1
    assert "warning" in err and "lecture.wav: 62 s long" in err and "short.wav" not in err


# ---------------------------------------------------------------- siblings
def test_create_on_a_file_or_below_a_file_is_a_dataset_error(tmp_path):
    (tmp_path / "f").write_text("x")
    for target in (tmp_path / "f", tmp_path / "f" / "ds"):
        with pytest.raises(DatasetError):
            DatasetStore.create(target)
    assert (tmp_path / "f").read_text() == "x"


def test_metadata_that_is_a_folder_or_a_link_is_refused(tmp_path):
    (tmp_path / "a" / "metadata.csv").mkdir(parents=True)
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        DatasetStore.open(tmp_path / "a", create=True)
    real = DatasetStore.create(tmp_path / "real")
    real.add_array(tone(440, 0.4), 16000, "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metadata.csv").symlink_to(real.root / "metadata.csv")
    before = (real.root / "metadata.csv").read_bytes()
    with pytest.raises(DatasetError, match="is a symbolic link"):
        DatasetStore.open(tmp_path / "b")
    assert (real.root / "metadata.csv").read_bytes() == before


def test_relabel_to_the_same_label_and_delete_of_a_missing_file(tone_dataset):
    clip = tone_dataset.clips[0]
    assert tone_dataset.relabel([clip.file_name], clip.label) == []
    assert tone_dataset.path_of(clip).is_file()
    tone_dataset.path_of(clip).unlink()
    with pytest.raises(DatasetError, match="the audio file is missing"):
        tone_dataset.relabel([clip.file_name], "elsewhere")
    tone_dataset.delete([clip.file_name])
    assert clip.file_name not in {c.file_name for c in tone_dataset.clips}
    assert tone_dataset.undo_delete() == []  # nothing to bring back, and no error


def test_undo_after_rows_json_lost_a_row_keeps_that_file(tone_dataset):
    names = [c.file_name for c in tone_dataset.clips[:2]]
    batch = tone_dataset.delete(names)
    rows_file = tone_dataset.root / ".trash" / batch / "rows.json"
    rows_file.write_text(json.dumps(json.loads(rows_file.read_text())[:1]))
    [restored] = tone_dataset.undo_delete()
    assert restored.file_name == names[0]
    assert (tone_dataset.root / ".trash" / batch / names[1]).is_file()  # not restored, but not deleted


def test_hidden_and_models_label_folders_in_a_source(tmp_path):
    src = tmp_path / "src"
    for folder, freq in (("models", 500), (".trash", 900)):
        (src / folder).mkdir(parents=True)
        for n in range(2):
            sf.write(src / folder / f"c{n}.wav", tone(freq, 0.3, seed=n), 16000)
    store = DatasetStore.create(tmp_path / "ds")
    (store.root / "models" / "run1").mkdir(parents=True)
    (store.root / "models" / "run1" / "config.json").write_text("{}")
    store.add_array(tone(700, 0.4), 16000, "keep")
    store.delete([store.clips[0].file_name])
    report = import_into(store, str(src))
    assert store.label_counts() == {"models": 2}
    assert any(".trash: hidden folder, its 2 audio file(s) were not imported" in m for m in report.skipped)
    assert (store.root / "models" / "run1" / "config.json").read_text() == "{}"
    assert [c.label for c in store.undo_delete()] == ["keep"]


def test_a_staging_folder_the_person_had_is_not_taken_for_a_killed_import(tmp_path):
    """`.staging/` is a common name: a folder that became a dataset may have had one. Opening the dataset took
    every sub-folder there for a killed import and deleted it; only an import's own (a random 32-hex name
    with the lock file made before it) is cleaned up."""
    data = tmp_path / "data"
    mine = data / ".staging" / "photos"
    mine.mkdir(parents=True)
    (mine / "a.jpg").write_bytes(b"precious")
    lookalike = data / ".staging" / ("0" * 32)  # an import's kind of name, but no lock file was made before it
    lookalike.mkdir()
    (lookalike / "b.txt").write_text("mine too")
    store = DatasetStore.create(data)
    import_into(store, str(write_tone_folder(tmp_path / "src", per_label=2)))
    DatasetStore.open(data)  # the next open runs the repair again
    assert (mine / "a.jpg").read_bytes() == b"precious" and (lookalike / "b.txt").read_text() == "mine too"
    assert not (data / ".staging" / "photos.lock").exists()
