"""The Linux artifacts of issue 21, made from a fake frozen folder (a shell script as the executable): the
.tar.zst's layout and its desktop entries, the .deb's files and control. No PyInstaller build."""

import shutil
import subprocess

import pytest

from intentdesk.core.packaging.deb import build_deb
from intentdesk.core.packaging.linux import PackagingError, linux_tarball

needs_zstd = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd program is not installed")
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")


@pytest.fixture
def app(tmp_path):
    """A frozen app folder: an executable that says where it runs from, and a library beside it."""
    folder = tmp_path / "IntentDesk"
    (folder / "_internal").mkdir(parents=True)
    (folder / "_internal" / "lib.so").write_bytes(b"\0" * 1000)
    exe = folder / "IntentDesk"
    exe.write_text('#!/bin/sh\necho "started from $(dirname "$0")" "$@"\n')
    exe.chmod(0o755)
    return folder


@pytest.fixture
def icon(tmp_path):
    path = tmp_path / "icon.png"
    path.write_bytes(b"\x89PNG fake")
    return path


def unpack(archive, into):
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(into)], check=True)
    return into


@needs_zstd
def test_the_tarball_holds_the_app_an_entry_an_icon_and_the_menu_script(tmp_path, app, icon):
    out = linux_tarball(app, tmp_path / "out", name="IntentDesk", version="1.2.3", icon=icon, comment="c", level=3)
    assert out.name == "IntentDesk-1.2.3-linux-x86_64.tar.zst"
    assert [p.name for p in (tmp_path / "out").iterdir()] == [out.name], "no staging or partial file left"
    top = unpack(out, tmp_path / "x") / "IntentDesk-1.2.3-linux-x86_64"
    assert sorted(p.name for p in top.iterdir()) == ["IntentDesk", "IntentDesk.desktop", "install-desktop-entry.sh",
                                                     "intentdesk.png"]
    assert (top / "IntentDesk" / "_internal" / "lib.so").stat().st_size == 1000
    assert subprocess.run([str(top / "IntentDesk" / "IntentDesk")], capture_output=True).returncode == 0


@needs_zstd
def test_the_menu_script_writes_an_entry_with_the_folders_absolute_paths(tmp_path, app, icon):
    out = linux_tarball(app, tmp_path / "out", name="IntentDesk", version="1", icon=icon, comment="c", level=1)
    top = unpack(out, tmp_path / "my apps") / "IntentDesk-1-linux-x86_64"
    home = tmp_path / "home"
    done = subprocess.run(["sh", str(top / "install-desktop-entry.sh")], capture_output=True, text=True,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    entry = (home / ".local/share/applications/intentdesk.desktop").read_text()
    assert f'Exec="{top}/IntentDesk/IntentDesk"\n' in entry and f"Icon={top}/intentdesk.png\n" in entry
    assert "Type=Application" in entry


@needs_zstd
def test_the_entry_beside_the_app_starts_it_from_wherever_it_was_extracted(tmp_path, app, icon):
    """Exec, unquoted as the Desktop Entry spec says (the file's escapes, then double quotes as in the shell:
    here, by a shell), with %k the entry's path: runs the executable beside the entry, in a folder whose name
    has a space too."""
    out = linux_tarball(app, tmp_path / "out", name="IntentDesk", version="1", icon=icon, comment="c", level=1)
    top = unpack(out, tmp_path / "a folder") / "IntentDesk-1-linux-x86_64"
    exec_line = next(line for line in (top / "IntentDesk.desktop").read_text().splitlines() if line.startswith("Exec="))
    words = exec_line[len("Exec="):].replace("\\\\", "\\").replace("%k", f'"{top}/IntentDesk.desktop"')
    launcher = tmp_path / "launch.sh"
    launcher.write_text(f'set -- {words}\nexec "$@"\n')
    done = subprocess.run(["sh", str(launcher)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"started from {top}/IntentDesk"


@needs_dpkg
def test_the_deb_installs_the_app_in_opt_with_a_launcher_entry_icon_and_qts_libraries(tmp_path, app, icon):
    deb = build_deb(app, tmp_path, name="IntentDesk", package="intentdesk", version="1.2.3", icon=icon,
                    summary="Speech intent classification", level=1)
    assert deb.name == "intentdesk_1.2.3_amd64.deb"
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ("./opt/intentdesk/IntentDesk", "./opt/intentdesk/_internal/lib.so", "./usr/bin/intentdesk",
                 "./usr/share/applications/intentdesk.desktop",
                 "./usr/share/icons/hicolor/256x256/apps/intentdesk.png"):
        assert path in listing
    assert "root/root" in listing
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True).stdout
    assert "libxcb-cursor0" in depends and "libxkbcommon-x11-0" in depends
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "root")], check=True)
    launcher = (tmp_path / "root/usr/bin/intentdesk").read_text()
    assert launcher == '#!/bin/sh\nexec /opt/intentdesk/IntentDesk "$@"\n'
    assert "Exec=intentdesk\n" in (tmp_path / "root/usr/share/applications/intentdesk.desktop").read_text()


@needs_dpkg
def test_a_deb_of_a_folder_without_the_app_says_build_it_first(tmp_path, icon):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackagingError, match="no IntentDesk executable in it; build the app first"):
        build_deb(tmp_path / "empty", tmp_path, name="IntentDesk", package="intentdesk", version="1", icon=icon,
                  summary="s")
