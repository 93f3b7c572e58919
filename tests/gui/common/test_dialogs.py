"""File dialogs open where the user's files are: the last folder chosen, else home (never the program's folder)."""

from __future__ import annotations

from pathlib import Path


def test_dialogs_start_at_home_then_where_the_user_last_chose(qtbot, tmp_path, monkeypatch):
    from intentdesk.gui.classify import results_table
    from intentdesk.gui.common import dialogs

    monkeypatch.setattr(dialogs, "_last_folders", {})
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    (tmp_path / "home").mkdir()
    asked = []

    def open_names(parent, caption, start, filters):
        asked.append(start)
        return [str(tmp_path / "audio" / "a.wav")], ""

    (tmp_path / "audio").mkdir()
    monkeypatch.setattr(results_table.QFileDialog, "getOpenFileNames", open_names)
    saved = [("", ""), (str(tmp_path / "results" / "mine.csv"), "")]
    monkeypatch.setattr(results_table.QFileDialog, "getSaveFileName",
                        lambda parent, caption, start, filters: (asked.append(start), saved.pop())[1])
    monkeypatch.setattr(results_table.ResultsPanel, "export_csv", lambda self, path: path)
    (tmp_path / "results").mkdir()
    panel = results_table.ResultsPanel()
    qtbot.addWidget(panel)
    panel.choose_files()
    panel.choose_export()  # not in the audio's folder (it opened in the last import's source folder)
    panel.choose_export()  # where the last export went
    panel.choose_files()  # audio still comes from where audio was chosen
    assert asked == [str(tmp_path / "home"), str(tmp_path / "home" / "intents.csv"),
                     str(tmp_path / "results" / "intents.csv"), str(tmp_path / "audio")]


def test_a_model_folder_chosen_is_not_where_audio_dialogs_open(qtbot, tmp_path, monkeypatch):
    """A newcomer's walk: after choosing the text encoder's folder, Open audio… opened in it."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from intentdesk.gui.classify import results_table
    from intentdesk.gui.common import dialogs

    monkeypatch.setattr(dialogs, "_last_folders", {})
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    (tmp_path / "home").mkdir()
    encoder = tmp_path / "minilm"
    encoder.mkdir()
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start: asked.append(start) or str(encoder))
    monkeypatch.setattr(results_table.QFileDialog, "getOpenFileNames",
                        lambda parent, caption, start, filters: (asked.append(start), ([], ""))[1])
    from intentdesk.gui.models.choices import ModelChoices
    from intentdesk.gui.models.dialog import ModelsDialog

    window = ModelsDialog(ModelChoices(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)))
    qtbot.addWidget(window)
    window.rows["text_encoder"].choose_folder()
    panel = results_table.ResultsPanel()
    qtbot.addWidget(panel)
    panel.choose_files()
    assert asked[-1] == str(tmp_path / "home") and dialogs.start_folder(kind=dialogs.MODELS) == str(encoder)
