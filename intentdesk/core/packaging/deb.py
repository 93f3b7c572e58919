"""The Debian package of a frozen app folder: the app in /opt/intentdesk, `intentdesk` on the PATH, a
desktop entry and icon where the menus look, and the system libraries Qt's xcb platform needs.

PyInstaller bundles Python, torch and Qt, not the X11 client libraries nor PortAudio (the microphone; its
ALSA and JACK libraries belong to the system): Qt's xcb plugin refuses to
start without libxcb-cursor0 and friends (`ldd` on dist/IntentDesk/_internal/PySide6/Qt/plugins/
platforms/libqxcb.so lists them). Names renamed by Debian's 64-bit time transition are given both ways.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from intentdesk.core.packaging.linux import ICON_NAME, ZSTD_LEVEL, PackagingError, desktop_entry, link_tree

DEPENDS = (
    "libc6 (>= 2.31)", "libstdc++6", "zlib1g", "libglib2.0-0t64 | libglib2.0-0", "libdbus-1-3",
    "libfontconfig1", "libfreetype6", "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon0",
    "libxkbcommon-x11-0", "libegl1", "libgl1", "libportaudio2",
)
CONTROL = """Package: {package}
Version: {version}
Architecture: amd64
Maintainer: IntentDesk maintainers <intentdesk@localhost>
Installed-Size: {kib}
Depends: {depends}
Section: sound
Priority: optional
Homepage: https://github.com/intentdesk/intentdesk
Description: {summary}
 Record or import short spoken clips, label them by intent, fine-tune a
 speech model on them and classify new clips, offline once the models are
 there. Start it from the application menu or with `intentdesk`.
"""
LAUNCHER = '#!/bin/sh\nexec /opt/{package}/{exe} "$@"\n'


def build_deb(app: Path, out_dir: Path, *, name: str, package: str, version: str, icon: Path, summary: str,
              level: int = ZSTD_LEVEL) -> Path:
    """`out_dir/PACKAGE_VERSION_amd64.deb` from the frozen folder `app` (zstd-compressed, `level`)."""
    if shutil.which("dpkg-deb") is None:
        raise PackagingError("dpkg-deb is not installed (it comes with dpkg, on Debian and Ubuntu)")
    root = Path(out_dir) / f".{package}-deb.staging"
    shutil.rmtree(root, ignore_errors=True)
    try:
        exe = next(entry.name for entry in app.iterdir() if entry.is_file() and entry.name == name)
        link_tree(app, root / "opt" / package)
        _write(root / "usr" / "bin" / package, LAUNCHER.format(package=package, exe=exe), 0o755)
        _write(root / "usr" / "share" / "applications" / f"{package}.desktop",
               desktop_entry(name, package, ICON_NAME, summary))
        icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        icons.mkdir(parents=True)
        shutil.copyfile(icon, icons / f"{ICON_NAME}.png")
        kib = sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink()) // 1024
        _write(root / "DEBIAN" / "control", CONTROL.format(package=package, version=version, kib=kib,
                                                            depends=", ".join(DEPENDS), summary=summary))
        out = Path(out_dir) / f"{package}_{version}_amd64.deb"
        done = subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", f"-z{level}", "--build", str(root),
                               str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            raise PackagingError(f"dpkg-deb could not build {out}: {done.stderr.strip()[-300:]}")
        return out
    except StopIteration:
        raise PackagingError(f"{app}: no {name} executable in it; build the app first (make dist)") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
