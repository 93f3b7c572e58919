"""File dialogs open where the user's files are: the last folder chosen, else home (never the program's folder)."""

from __future__ import annotations

from pathlib import Path


def test_dialogs_start_at_home_then_where_the_user_last_chose(qtbot, tmp_path, monkeypatch):
    from intentdesk.gui.classify import results_table
    from intentdesk.gui.common import dialogs

    monkeypatch.setattr(dialogs, "_last_folder", None)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    (tmp_path / "home").mkdir()
    asked = []

    def open_names(parent, caption, start, filters):
        asked.append(start)
        return [str(tmp_path / "audio" / "a.wav")], ""

    (tmp_path / "audio").mkdir()
    monkeypatch.setattr(results_table.QFileDialog, "getOpenFileNames", open_names)
    monkeypatch.setattr(results_table.QFileDialog, "getSaveFileName",
                        lambda parent, caption, start, filters: (asked.append(start), ("", ""))[1])
    panel = results_table.ResultsPanel()
    qtbot.addWidget(panel)
    panel.choose_files()
    panel.choose_export()
    assert asked == [str(tmp_path / "home"), str(tmp_path / "audio" / "intents.csv")]
