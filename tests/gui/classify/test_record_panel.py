"""Classify's microphone panel: it records from the device chosen in the app, and says when there is none."""

import pytest

from intentdesk.core.audio.microphone import InputDevice
from tests.helpers import open_main_window, write_two_utterances


def window_with(qtbot, tmp_path, tone_model, devices):
    window = open_main_window(qtbot, tmp_path / "settings.ini", write_two_utterances(tmp_path / "mic.wav"), devices)
    window.show_tab("classify")
    with qtbot.waitSignal(window.classify_tab.models.loaded, timeout=30000):
        window.classify_tab.open_model(tone_model)
    window.microphone.close()  # the Label tab opened it on show: the replayed recording starts again on use
    return window


@pytest.fixture
def shutdown():
    windows = []
    yield windows.append
    for window in windows:
        window.classify_tab.shutdown()
        window.microphone.close()


def test_records_from_the_device_chosen_in_the_app(qtbot, tmp_path, tone_model, shutdown):
    devices = [InputDevice(-1, "Built-in"), InputDevice(7, "Headset")]
    window = window_with(qtbot, tmp_path, tone_model, devices)
    shutdown(window)
    window.microphone.choose(devices[1])  # e.g. picked in the Label tab
    panel = window.classify_tab.recording
    assert panel.recorder is window.microphone.recorder and panel.recorder.device == 7
    panel.toggle_record()
    qtbot.waitUntil(lambda: panel.recorder.recorded_seconds > 1.5, timeout=10000)
    panel.toggle_record()
    qtbot.waitUntil(lambda: len(window.classify_tab.bars.rows) == 3, timeout=10000)
    assert window.classify_tab.bars.source.text().startswith("Recording")


def test_without_a_microphone_record_and_live_say_so(qtbot, tmp_path, tone_model, shutdown):
    window = window_with(qtbot, tmp_path, tone_model, [])
    shutdown(window)
    tab = window.classify_tab
    problem = window.microphone.problem
    assert problem and tab.recording.mic_note.text() == problem
    assert not tab.recording.record_button.isEnabled() and not tab.recording.live_button.isEnabled()
    tab.recording.toggle_record()
    assert problem in tab.message.text()
    tab.message.hide()
    tab.recording.live_button.setChecked(True)
    assert not tab.recording.live_button.isChecked() and problem in tab.message.text()
