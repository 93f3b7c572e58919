"""The one microphone owner: a device chosen anywhere is the device every tab records from."""

import soundfile as sf

from intentdesk.core.audio.microphone import InputDevice, MicrophoneError
from intentdesk.core.audio.replay import replay_factory
from intentdesk.gui.common.microphone import DeviceChooser, Microphone
from tests.helpers import RATE, tone

DEVICES = [InputDevice(3, "Desk mic"), InputDevice(7, "Headset")]


def test_two_choosers_share_one_choice_and_one_recorder(qtbot):
    microphone = Microphone(lambda: DEVICES)
    first, second = DeviceChooser(microphone), DeviceChooser(microphone)
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    assert microphone.chosen == DEVICES[0] and microphone.recorder.device == 3
    first.setCurrentIndex(1)
    assert microphone.chosen == DEVICES[1]
    assert microphone.recorder.device == 7
    assert second.currentText() == "Headset"


def test_no_device_or_no_portaudio_is_a_plain_problem(qtbot):
    def missing():
        raise MicrophoneError("the PortAudio library is missing")

    microphone = Microphone(missing)
    assert microphone.recorder is None and not microphone.available
    assert "PortAudio" in microphone.problem
    assert microphone.open() is None
    assert "no input device" in Microphone(lambda: []).problem


def test_a_refused_stream_is_reported_and_a_replay_stream_records(qtbot, tmp_path):
    def refuse(**_kwargs):
        raise OSError("device busy")

    refused = Microphone(lambda: DEVICES, refuse)
    assert refused.open() is None and "device busy" in refused.problem
    wav = tmp_path / "mic.wav"
    sf.write(wav, tone(400, 1.0), RATE)
    microphone = Microphone(lambda: [InputDevice(-1, "Replay")], replay_factory(wav, speed=4.0))
    recorder = microphone.open()
    assert recorder is not None and recorder.device is None  # -1: the default device
    recorder.start_take()
    qtbot.waitUntil(lambda: recorder.recorded_seconds >= 0.2, timeout=30000)
    assert len(recorder.stop_take()) >= 0.2 * RATE
    microphone.close()
    assert not recorder.is_open
