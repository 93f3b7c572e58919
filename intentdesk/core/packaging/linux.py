"""Turning a frozen app folder (PyInstaller's dist/IntentDesk) into files a person downloads.

`pack_folder` is the one way a folder becomes a compressed archive (the Linux artifact, and an app
made for others from a trained model both use it). `linux_tarball` lays out the self-contained
IntentDesk-VERSION-linux-x86_64.tar.zst: the app, a desktop entry that starts it from wherever it was
extracted, its icon, and a script that adds it to the person's application menu.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from intentdesk.core.errors import IntentDeskError

ZSTD_LEVEL = 19  # BENCHMARKS.md "Packaged app size": -19 --long is the smallest at a build time CI affords
ZSTD_WINDOW = 27  # --long=27 (128 MB): the largest window every zstd decompresses without an option
EXECUTABLE = "IntentDesk"
ICON_NAME = "intentdesk"

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name={name}
GenericName=Speech intent classifier
Comment={comment}
Exec={exec}
Icon={icon}
Terminal=false
Categories=AudioVideo;Audio;Education;
StartupWMClass={wm_class}
"""

# Starts the app beside the entry itself (%k: the entry's path), quoted as the Desktop Entry spec says:
# the shell's `"$(dirname "$1")/APP/EXE"`, its `"`, `$` escaped for Exec, then each backslash for the file.
EXEC_BESIDE_ENTRY = r'sh -c "\\"\\$(dirname \\"\\$1\\")/{app}/{exe}\\"" sh %k'

# Run from the extracted folder: puts the entry (with this folder's absolute paths) in the user's menu.
INSTALL_SCRIPT = """#!/bin/sh
# Adds {name} to your application menu (for you only; nothing needs root).
# Run it again after moving this folder; delete {entry} to remove it.
set -e
here=$(cd "$(dirname "$0")" && pwd)
apps="${{XDG_DATA_HOME:-$HOME/.local/share}}/applications"
mkdir -p "$apps"
sed -e "s|^Exec=.*|Exec=\\"$here/{app}/{exe}\\"|" -e "s|^Icon=.*|Icon=$here/{icon}|" \\
    "$here/{name}.desktop" > "$apps/{entry}"
chmod +x "$apps/{entry}"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" 2>/dev/null || true
echo "{name} is in your application menu ($apps/{entry})."
"""


class PackagingError(IntentDeskError):
    """A folder could not be packed (a tool missing, the disk full): the message says which and why."""


def desktop_entry(name: str, exec_line: str, icon: str, comment: str, wm_class: str = EXECUTABLE) -> str:
    return DESKTOP_ENTRY.format(name=name, exec=exec_line, icon=icon, comment=comment, wm_class=wm_class)


def pack_folder(folder: Path, out: Path, *, level: int = ZSTD_LEVEL) -> Path:
    """Write `folder` (with its own name as the archive's top folder) to `out`: a .tar.zst through the
    `zstd` program (`level`, long window, all cores), or .tar.xz / .tar.gz with Python's tarfile
    when that program is not there. Written beside `out` first, so a cut-off run leaves no half file."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise PackagingError(f"{folder}: no such folder to pack")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        if out.name.endswith(".tar.zst"):
            _tar_zstd(folder, partial, level)
        else:
            mode = {".xz": "w:xz", ".gz": "w:gz"}.get(out.suffix)
            if mode is None or not out.name.endswith((".tar.xz", ".tar.gz")):
                raise PackagingError(f"{out.name}: name the archive .tar.zst, .tar.xz or .tar.gz")
            with tarfile.open(partial, mode) as archive:
                archive.add(folder, arcname=folder.name)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def _tar_zstd(folder: Path, out: Path, level: int) -> None:
    zstd = shutil.which("zstd")
    if zstd is None:
        raise PackagingError("the zstd program is not installed (apt-get install zstd); or name the archive "
                             ".tar.xz, which needs nothing more")
    tar = subprocess.Popen(["tar", "-cf", "-", "--owner=0", "--group=0", "-C", str(folder.parent), folder.name],
                           stdout=subprocess.PIPE)
    packed = subprocess.run([zstd, "-q", f"-{level}", f"--long={ZSTD_WINDOW}", "-T0", "-f", "-o", str(out)],
                            stdin=tar.stdout, stderr=subprocess.PIPE, text=True)
    tar.stdout.close()
    if tar.wait() != 0 or packed.returncode != 0:
        raise PackagingError(f"packing {folder} into {out} failed: {packed.stderr.strip() or 'tar failed'}")


def link_tree(source: Path, target: Path) -> None:
    """`target` as a copy of `source` made of hard links (instant, no space) where the file system allows."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link)


def linux_tarball(app: Path, out_dir: Path, *, name: str, version: str, icon: Path, comment: str,
                  level: int = ZSTD_LEVEL) -> Path:
    """`out_dir/NAME-VERSION-linux-x86_64.tar.zst`: a top folder holding the app folder `app`, `NAME.desktop`
    (Exec through %k, the entry's own path, so double-clicking it works where it was extracted), the
    icon, and install-desktop-entry.sh (the same entry in the person's menu, with absolute paths)."""
    top_name = f"{name}-{version}-linux-x86_64"
    staging = Path(out_dir) / f".{top_name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    top = staging / top_name
    top.mkdir(parents=True)
    try:
        link_tree(app, top / app.name)
        shutil.copyfile(icon, top / f"{ICON_NAME}.png")
        exec_line = EXEC_BESIDE_ENTRY.format(app=app.name, exe=EXECUTABLE)
        entry = top / f"{name}.desktop"
        entry.write_text(desktop_entry(name, exec_line, ICON_NAME, comment), encoding="utf-8")
        script = top / "install-desktop-entry.sh"
        script.write_text(INSTALL_SCRIPT.format(name=name, app=app.name, exe=EXECUTABLE, icon=f"{ICON_NAME}.png",
                                                entry=f"{ICON_NAME}.desktop"), encoding="utf-8")
        for executable in (entry, script):
            executable.chmod(0o755)
        return pack_folder(top, Path(out_dir) / f"{top_name}.tar.zst", level=level)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
