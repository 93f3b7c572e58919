"""The app made for someone else, as they see it: Classify only, its one model loaded and locked, the line that
says what it carries, and Classify's own work (a dropped clip ranked, CSV export)."""

from __future__ import annotations

import pytest
import soundfile as sf
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QTabWidget

from intentdesk.core.packaging.carried import find_carried
from intentdesk.gui.app import build_carried_window
from tests.apps import carried_app
from tests.helpers import RATE, drop, run_cli, tone


@pytest.fixture
def window(qtbot, tmp_path, tone_model):
    carried = find_carried(str(carried_app(tmp_path / "IntentDesk-tones", tone_model)))
    win = build_carried_window(carried, QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.classify_tab.models.loaded, timeout=60000):
        win.show()
    yield win
    win.close()


def test_only_classify_with_the_carried_model_and_what_it_was_trained_on(window, tmp_path):
    from intentdesk.gui.label.tab import LabelTab
    from intentdesk.gui.train.tab import TrainTab

    assert not window.findChildren(LabelTab) and not window.findChildren(TrainTab)
    assert not any(tabs.count() and "Train" in [tabs.tabText(i) for i in range(tabs.count())]
                   for tabs in window.findChildren(QTabWidget))
    menus = [action.text() for menu in window.menuBar().findChildren(QMenu) for action in menu.actions()]
    assert not any("Models" in text or "dataset" in text.lower() or "Import" in text for text in menus)
    assert window.classify_tab.model_dir == (tmp_path / "IntentDesk-tones" / "model").resolve()
    line = window.model_line.text()
    assert line.startswith("Model: model, trained on 24 clips (") and line.endswith("intents: high, low, mid")
    assert window.windowTitle() == "IntentDesk — model"
    panel = window.classify_tab.models
    assert not panel.combo.isVisible() and not panel.open_button.isVisible()  # the model cannot be changed
    assert "Train" not in window.classify_tab.bars.no_model_text + panel.no_model_text  # it has no Train tab


def test_a_dropped_clip_is_ranked_and_exported(qtbot, window, tmp_path):
    sf.write(tmp_path / "call.wav", tone(1400, 0.5, RATE, seed=3), RATE)
    tab = window.classify_tab
    with qtbot.waitSignal(tab.batch_done, timeout=60000):
        drop(tab, [tmp_path / "call.wav"])
    assert tab.results.table.rowCount() == 1
    assert tab.bars.labels_in_order()[0] in ("high", "low", "mid")
    tab.results.export_csv(tmp_path / "results.csv")
    assert "call.wav" in (tmp_path / "results.csv").read_text()


def test_a_folder_that_is_no_such_app_is_one_error_line(tmp_path):
    result = run_cli("--carried", tmp_path, check=False)
    assert result.returncode == 2
    assert "has no carried_model.json" in result.stderr and "Traceback" not in result.stderr
