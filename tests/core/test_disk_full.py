"""A full disk is one message wherever it happens (issue 26, item 6): `is_disk_full` recognises it
however a library reports it, and `stop_when_disk_full` turns it into `DiskFull`."""

from __future__ import annotations

import errno
import re
import shutil

import pytest

from intentdesk import cli
from intentdesk.core.errors import DatasetError, DiskFull
from intentdesk.core.files import is_disk_full, stop_when_disk_full
from tests.disk_full import no_space


class SafetensorError(Exception):
    """What safetensors raises (its own type, the OS error only in the text)."""


@pytest.mark.parametrize("error", [
    no_space(),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)"),
    shutil.Error([("a", "b", "[Errno 28] No space left on device: 'b'")]),
    DatasetError("/d: cannot change the dataset /d: No space left on device (free some disk space)"),
])
def test_a_full_disk_is_recognised_however_it_is_reported(error):
    assert is_disk_full(error)


def test_a_full_disk_is_recognised_under_the_error_raised_from_it():
    try:
        try:
            raise no_space("/d/x")
        except OSError as error:
            raise RuntimeError("save failed") from error
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped)


@pytest.mark.parametrize("error", [OSError(errno.EACCES, "Permission denied"), ValueError("os error 2"),
                                   SafetensorError("header too large"), KeyError()])
def test_other_errors_are_not_a_full_disk(error):
    assert not is_disk_full(error)


def test_the_message_names_the_disk_its_free_space_and_what_was_kept(tmp_path):
    with pytest.raises(DiskFull) as caught, stop_when_disk_full(tmp_path / "data", "nothing was changed"):
        raise no_space(tmp_path / "data" / ".staging" / "x.wav")
    assert re.fullmatch(rf"the disk holding {re.escape(str(tmp_path / 'data'))} is full \([\d,.]+ MB free\): "
                        "free some space and try again; nothing was changed", str(caught.value))


def test_free_space_is_shown_in_megabytes():
    assert str(DiskFull("/d", 250_000, "x")) == "the disk holding /d is full (0.2 MB free): free some space and " \
                                                "try again; x"
    assert "(12,345 MB free)" in str(DiskFull("/d", 12_345_000_000, "x"))
    assert str(DiskFull("/d", None, "x")).startswith("the disk holding /d is full: ")


def test_a_write_outside_the_folder_is_named_by_its_own_place(tmp_path):
    """A cache on another disk is that disk's problem, not the model folder's."""
    with pytest.raises(DiskFull, match=f"the disk holding {tmp_path / 'cache'} is full"), \
            stop_when_disk_full(tmp_path / "models"):
        raise no_space(tmp_path / "cache" / "entry.npy")


def test_an_inner_guard_keeps_its_place_and_outcome(tmp_path):
    with pytest.raises(DiskFull, match=r"holding .*inner is full .*; the inner outcome$"), \
            stop_when_disk_full(tmp_path / "outer", "the outer outcome"), \
            stop_when_disk_full(tmp_path / "inner", "the inner outcome"):
        raise no_space()


def test_other_errors_pass_through_the_guard(tmp_path):
    with pytest.raises(PermissionError), stop_when_disk_full(tmp_path):
        raise PermissionError(errno.EACCES, "Permission denied")


def test_the_cli_says_a_full_disk_no_command_named_as_the_same_one_line(monkeypatch, capsys):
    def save_fails(_args):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(cli.models, "cmd_evaluate", save_fails)
    assert cli.main(["evaluate", "m", "d"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the disk holding . is full (") and err.count("\n") == 1
    assert "unexpected" not in err and "please report" not in err


def test_training_on_a_full_cache_disk_stops_and_names_that_disk(tone_dataset, tiny_wav2vec2, tmp_path, monkeypatch):
    """The feature cache lives elsewhere (the user's data folder): its disk is named, and the
    entry it was writing is not left half-written."""
    import os
    from pathlib import Path

    from intentdesk.core.learning.trainer import TrainSettings, train

    cache = Path(os.environ["INTENTDESK_CACHE"])
    real_write = Path.write_bytes

    def cache_fills_up(path, data):
        if path.suffix == ".npy":
            real_write(path, bytes(data)[:10])
            raise no_space(path)
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", cache_fills_up)
    with pytest.raises(DiskFull, match=rf"^the disk holding {re.escape(str(cache))}\S* is full .*; the training "
                                       "stopped and no model was saved$"):
        train(tone_dataset.root, tmp_path / "model", TrainSettings(base_model=str(tiny_wav2vec2), epochs=1))
    assert [p for p in cache.rglob("*.npy")] == [] and not (tmp_path / "model").exists()
