"""The one audio-file walker: which files in a folder count as audio, in which order."""

from __future__ import annotations

import os
from pathlib import Path

from intentdesk.core.audio.io import audio_files_under


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_lists_audio_sorted_and_skips_hidden_and_other_files(tmp_path):
    wanted = [touch(tmp_path / "b.WAV"), touch(tmp_path / "a" / "z.flac"), touch(tmp_path / "a" / "deep" / "x.mp3")]
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".hidden.wav")
    touch(tmp_path / ".trash" / "old.wav")
    touch(tmp_path / "a" / ".git" / "x.wav")
    assert audio_files_under(tmp_path) == sorted(wanted)


def test_not_recursive_lists_only_the_folder_itself(tmp_path):
    top = touch(tmp_path / "top.ogg")
    touch(tmp_path / "sub" / "below.wav")
    assert audio_files_under(tmp_path, recursive=False) == [top]


def test_folder_links_are_not_followed(tmp_path):
    clip = touch(tmp_path / "real" / "clip.wav")
    os.symlink(tmp_path, tmp_path / "real" / "loop")  # a loop back to the top
    assert audio_files_under(tmp_path) == [clip]


def test_a_missing_folder_has_no_audio(tmp_path):
    assert audio_files_under(tmp_path / "nowhere") == []


def test_atomic_writes_keep_the_files_access_rights(tmp_path):
    """mkstemp's temporary file is private (0600); a rewritten metadata.csv must not become so."""
    import os
    import stat

    from intentdesk.core.files import atomic_write_bytes

    shared = tmp_path / "metadata.csv"
    shared.write_text("file_name,label\n")
    os.chmod(shared, 0o664)
    atomic_write_bytes(shared, b"file_name,label\nclips/a.wav,a\n")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664
    fresh = tmp_path / "phrases.csv"
    atomic_write_bytes(fresh, b"label,text\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
