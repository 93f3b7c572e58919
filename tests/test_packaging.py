"""What the packaged app relies on, checked unfrozen: the self-test, safe streams, user folders."""

import os
import subprocess
import sys

from intentdesk import paths


def test_self_test_trains_classifies_and_reports_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "intentdesk", "--self-test"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("IntentDesk self-test OK")
    assert "as 'high'" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing left in the working folder


def test_windowed_app_without_standard_streams_can_still_print():
    code = ("import sys; sys.stdout = None; sys.stderr = None\n"
            "from intentdesk.paths import prepare_process; prepare_process()\n"
            "print('hello'); import warnings; warnings.warn('x')\n"
            "from intentdesk.cli.output import print_err; print_err('fine')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_frozen_app_keeps_the_hub_cache_in_the_user_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("INTENTDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    paths.prepare_process()
    assert os.environ["HF_HOME"] == str(tmp_path / "home" / "huggingface")
    assert paths.datasets_home() == tmp_path / "home" / "datasets" and paths.datasets_home().is_dir()
    monkeypatch.delenv("HF_HOME")
