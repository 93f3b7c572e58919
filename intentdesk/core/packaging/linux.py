"""Turning a frozen app folder (PyInstaller's dist/IntentDesk) into the Linux artifact a person downloads.

`linux_tarball` lays out the self-contained IntentDesk-VERSION-linux-x86_64.tar.zst: the app, a desktop
entry that starts it from wherever it was extracted, its icon, and a script that adds it to the person's
application menu. It is packed by `core.packaging.archive.pack`, as an app made for others is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.packaging import archive

# zstd -9 --long: 12 % larger than -19 and 37 times faster (BENCHMARKS.md "Packaged app size"): -19 took
# half an hour for the app on the loaded 2-core machine. LEVEL=19 for a release build.
ZSTD_LEVEL = 9
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
    top = f"{name}-{version}-linux-x86_64"
    script = INSTALL_SCRIPT.format(name=name, app=app.name, exe=EXECUTABLE, icon=f"{ICON_NAME}.png",
                                   entry=f"{ICON_NAME}.desktop")
    entry = desktop_entry(name, EXEC_BESIDE_ENTRY.format(app=app.name, exe=EXECUTABLE), ICON_NAME, comment)
    entries = [archive.Entry(f"{top}/{app.name}", app), archive.Entry(f"{top}/{ICON_NAME}.png", icon),
               archive.Entry(f"{top}/{name}.desktop", data=entry.encode(), executable=True),
               archive.Entry(f"{top}/install-desktop-entry.sh", data=script.encode(), executable=True)]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    try:
        return archive.pack(Path(out_dir) / f"{top}{archive.ZSTD}", entries, level=level)
    except IntentDeskError as error:
        raise PackagingError(f"{top}{archive.ZSTD}: {error}") from error
