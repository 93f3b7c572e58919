"""Two writers on one dataset (reliability issue #12, item 2): nothing is overwritten or forgotten.

`intentdesk import A ds & intentdesk import B ds` used to overwrite clips with the same name and
leave only the last writer's rows in metadata.csv; the GUI and the CLI hit the same lost update.
"""

import csv
import hashlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import soundfile as sf

from intentdesk.core.data import lock
from intentdesk.core.data import store as dataset
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError
from tests.helpers import tone

ROOT = Path(__file__).resolve().parents[3]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source(root: Path, base_freq: float, per_label: int = 12) -> dict[str, str]:
    """Label folders whose file names are the same in every source (so the writers' names collide);
    returns content hash -> label."""
    expected = {}
    for label in ("yes", "no"):
        (root / label).mkdir(parents=True)
        for n in range(per_label):
            path = root / label / f"take{n}.wav"
            sf.write(path, tone(base_freq + 20 * n + (300 if label == "no" else 0), 0.3, seed=n), 16000)
            expected[digest(path)] = label
    return expected


def check_dataset(data: Path, expected: dict[str, str]) -> None:
    with open(data / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(expected)
    found = {digest(data / row["file_name"]): row["label"] for row in rows}
    assert found == expected  # every clip of both writers, each with its own content and label
    assert len(list((data / "clips").rglob("*.wav"))) == len(expected)
    assert not (data / ".staging").exists()


def test_two_imports_at_once_into_a_new_dataset_keep_every_clip(tmp_path):
    expected = source(tmp_path / "A", 300, per_label=30) | source(tmp_path / "B", 310, per_label=30)
    data = tmp_path / "ds"
    procs = [subprocess.Popen([sys.executable, "-m", "intentdesk", "import", str(tmp_path / name), str(data)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("A", "B")]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert sorted(json.loads(out)["added"] for out, _ in results) == [60, 60]
    check_dataset(data, expected)


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import soundfile as sf
    from intentdesk.core.data.store import DatasetStore
    store = DatasetStore.open(sys.argv[1])  # opened once, like the GUI: later changes by others are unseen
    samples, rate = sf.read(sys.argv[2], dtype="float32")
    print("opened", flush=True)
    while not Path(sys.argv[4]).exists():
        time.sleep(0.01)
    for n in range(int(sys.argv[3])):
        store.add_array(samples * (0.5 + 0.01 * n), rate, "rec", stem="take")
""")


def test_a_long_open_store_and_an_import_do_not_lose_each_others_clips(tmp_path):
    """Like the GUI (a store opened earlier, recording takes) after `intentdesk import` changed the dataset."""
    data = tmp_path / "ds"
    DatasetStore.create(data)
    sf.write(tmp_path / "take.wav", tone(500, 0.3), 16000)
    expected = source(tmp_path / "A", 300, per_label=15)
    go = tmp_path / "go"
    recorder = subprocess.Popen([sys.executable, "-c", WRITER, str(data), str(tmp_path / "take.wav"), "20", str(go)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert recorder.stdout.readline().strip() == "opened"
    importer = subprocess.run([sys.executable, "-m", "intentdesk", "import", str(tmp_path / "A"), str(data)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert importer.returncode == 0, importer.stderr
    go.touch()
    assert recorder.wait(timeout=300) == 0, recorder.stderr.read()
    with open(data / "metadata.csv", newline="") as handle:  # as written, before any open repairs it
        takes = [row["file_name"] for row in csv.DictReader(handle) if row["label"] == "rec"]
    assert len(set(takes)) == 20 and len({digest(data / name) for name in takes}) == 20
    check_dataset(data, expected | {digest(data / name): "rec" for name in takes})


HOLDER = textwrap.dedent("""
    import sys
    from filelock import FileLock
    with FileLock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # held until the test closes our stdin
""")


def test_a_second_writer_waits_then_says_the_dataset_is_busy(tmp_path, monkeypatch):
    """The lock is held for as long as the test needs (not for a few seconds a loaded machine may use up
    before the second writer even tries); the writer must wait its timeout, then give up."""
    store = DatasetStore.create(tmp_path / "ds")
    before = (store.root / "metadata.csv").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.root / dataset.LOCK_FILE)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(lock, "LOCK_TIMEOUT_S", 0.3)
        started = time.monotonic()
        with pytest.raises(DatasetError, match="the dataset is busy"):
            store.add_array(tone(440, 0.4), 16000, "a")
        assert time.monotonic() - started >= 0.25  # it waited (a loaded machine only makes this longer)
        assert (store.root / "metadata.csv").read_bytes() == before
        assert not list((store.root / "clips").rglob("*.wav"))
    finally:
        holder.stdin.close()
        holder.wait(timeout=120)
    store.add_array(tone(440, 0.4), 16000, "a")  # the lock is free again once its holder is gone
    assert len(DatasetStore.open(store.root)) == 1
