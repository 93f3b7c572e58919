"""Make an app for others… in the Runs list: asks where, makes the file in the background, says where it is;
Cancel leaves nothing; a refusal is shown, not raised."""

from __future__ import annotations

import shutil
import threading

import pytest

from intentdesk.core.packaging import archive, export_app
from intentdesk.gui.train import handover
from intentdesk.gui.train.runs import RunsPanel
from tests.apps import fake_app, unpack


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch, tone_model):
    """The Runs list of a dataset with one trained run, in a checkout whose dist/IntentDesk is a fake app."""
    shutil.copytree(tone_model, tmp_path / "data" / "models" / "tones")
    (tmp_path / "data" / "metadata.csv").write_text("file_name,label\n")
    fake_app(tmp_path / "checkout" / "dist" / "IntentDesk")
    monkeypatch.setattr(export_app, "source_root", lambda: tmp_path / "checkout")
    widget = RunsPanel()
    qtbot.addWidget(widget)
    widget.refresh(tmp_path / "data")
    widget.show()
    yield widget
    widget.export.shutdown()


def test_make_an_app_of_the_selected_run(qtbot, panel, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(panel.export, "ask_where", lambda name: asked.append(name) or str(tmp_path / "for-anna.tar.gz"))
    assert panel.app_button.isEnabled()
    with qtbot.waitSignal(panel.export.finished_file, timeout=60000) as done:
        panel.app_button.click()
        assert not panel.app_button.isEnabled()  # one app at a time
    assert asked[0].startswith("IntentDesk-tones.tar.")
    assert done.args == [str(tmp_path / "for-anna.tar.gz")]
    top = unpack(tmp_path / "for-anna.tar.gz", tmp_path / "unpacked")
    assert (top / "carried_model.json").is_file() and (top / "tones" / "config.json").is_file()
    qtbot.waitUntil(lambda: panel.app_button.isEnabled())
    assert str(tmp_path / "for-anna.tar.gz") in panel.export.result.text() and panel.export.result.isVisible()


def test_cancel_writes_nothing(qtbot, panel, tmp_path, monkeypatch):
    started = threading.Event()

    def slow_export(model_dir, out, emit, cancel):
        started.set()
        cancel.wait(60)
        raise archive.PackCancelled(f"cancelled: {out} was not written")

    monkeypatch.setattr(handover, "run_export", slow_export)
    monkeypatch.setattr(panel.export, "ask_where", lambda name: str(tmp_path / "x.tar.gz"))
    panel.make_app()
    qtbot.waitUntil(started.is_set)
    assert panel.export.cancel_button.isVisible()
    panel.export.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.export.running, timeout=30000)
    assert panel.export.result.text() == "Cancelled: no file was written."
    assert not (tmp_path / "x.tar.gz").exists()


def test_a_refusal_is_shown(qtbot, panel, tmp_path, monkeypatch):
    (tmp_path / "taken.tar.gz").write_bytes(b"mine")
    monkeypatch.setattr(panel.export, "ask_where", lambda name: str(tmp_path / "taken.tar.gz"))
    with qtbot.waitSignal(panel.failed, timeout=30000) as failed:
        panel.make_app()
    assert failed.args[0].startswith("The app was not made:") and "already exists" in failed.args[0]
    assert (tmp_path / "taken.tar.gz").read_bytes() == b"mine"


def test_closing_the_save_dialog_starts_nothing(panel, monkeypatch):
    monkeypatch.setattr(panel.export, "ask_where", lambda name: "")
    assert not panel.make_app() and not panel.export.running
