"""`intentdesk export-app MODEL OUT`: progress on stderr, the file and its size on stdout; one error line for
bad input."""

from __future__ import annotations

from tests.apps import fake_app, unpack
from tests.helpers import run_cli


def test_export_app_writes_one_file_and_says_where(tmp_path, saved_classifier):
    app = fake_app(tmp_path / "IntentDesk")
    result = run_cli("export-app", saved_classifier, tmp_path / "out.tar.gz", "--app-folder", app)
    assert result.stdout.startswith(f"{tmp_path / 'out.tar.gz'}  (") and "KB)" in result.stdout
    assert "Checking the model" in result.stderr and "Writing out.tar.gz" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("Writing")]) <= 11
    top = unpack(tmp_path / "out.tar.gz", tmp_path / "unpacked")
    assert (top / saved_classifier.name / "config.json").is_file() and (top / "IntentDesk").is_file()


def test_export_app_refusals_are_one_line(tmp_path, saved_classifier):
    app = fake_app(tmp_path / "IntentDesk")
    (tmp_path / "taken.tar.gz").write_text("x")
    for args, words in (((tmp_path, tmp_path / "a.tar.gz", "--app-folder", app), "config.json"),
                        ((saved_classifier, tmp_path / "taken.tar.gz", "--app-folder", app), "already exists"),
                        ((saved_classifier, tmp_path / "b.tar.gz", "--app-folder", tmp_path), "not a packaged")):
        result = run_cli("export-app", *args, check=False)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        lines = result.stderr.strip().splitlines()
        assert [line for line in lines if line.startswith("error: ")] == lines[-1:] and "Traceback" not in result.stderr
    assert not (tmp_path / "a.tar.gz").exists() and not (tmp_path / "b.tar.gz").exists()


def test_the_app_opens_classify_only_with_carried(tmp_path, monkeypatch, tone_model):
    """`intentdesk --carried DIR` (and `gui --carried DIR`) opens the window of the app made for others."""
    from intentdesk.gui import app as gui_app
    from tests.apps import carried_app

    folder = carried_app(tmp_path / "IntentDesk-tones", tone_model)
    opened = []
    monkeypatch.setattr(gui_app, "run_app", lambda **options: opened.append(options) or 0)
    run_cli("--carried", folder)
    run_cli("gui", "--carried", folder)
    assert [options["carried"].model_dir for options in opened] == [(folder / "model").resolve()] * 2
