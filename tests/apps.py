"""A packaged IntentDesk in miniature and the unpacking of an app made for others (import from here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from intentdesk.core.packaging import archive, carried


def fake_app(folder: Path) -> Path:
    """What `make dist` leaves in dist/IntentDesk, in miniature: the executable, _internal/ with a library,
    a link inside it and one that leads out, and the training models a packaged app may bundle."""
    (folder / "_internal" / "resources").mkdir(parents=True)
    (folder / "IntentDesk").write_text("#!/bin/sh\necho packaged\n")
    (folder / "IntentDesk").chmod(0o755)
    (folder / "_internal" / "libpython.so").write_bytes(os.urandom(3000))
    (folder / "_internal" / "resources" / "icon.png").write_bytes(b"png")
    (folder / "_internal" / "libpython.so.1").symlink_to("libpython.so")
    (folder / "_internal" / "elsewhere").symlink_to("/etc/hostname")
    (folder / "models" / "whisper").mkdir(parents=True)
    (folder / "models" / "whisper" / "model.safetensors").write_bytes(b"big")
    return folder


def unpack(path: Path, where: Path) -> Path:
    """The archive's one top folder, unpacked (Python's tarfile reads .tar.gz; .tar.zst goes through the
    zstandard module or the zstd program, whichever wrote it)."""
    where.mkdir()
    if path.name.endswith(archive.ZSTD):
        tar_file = where / "app.tar"
        try:
            import zstandard
        except ImportError:
            subprocess.run(["zstd", "-q", "-d", str(path), "-o", str(tar_file)], check=True)
        else:
            with path.open("rb") as source, tar_file.open("wb") as target:
                zstandard.ZstdDecompressor().copy_stream(source, target)
        path = tar_file
    with tarfile.open(path) as tar:
        tar.extractall(where, filter="tar")
    tops = [entry for entry in where.iterdir() if entry.is_dir()]
    assert len(tops) == 1
    return tops[0]


def carried_app(folder: Path, model_dir: Path) -> Path:
    """An unpacked app made for others without the app's own files: the model copied into `model/` and the marker."""
    shutil.copytree(model_dir, folder / carried.MODEL_FOLDER)
    (folder / carried.MARKER).write_bytes(carried.facts_of(model_dir).to_json())
    return folder
