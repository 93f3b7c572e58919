"""The one microphone owner: the device list, the device the user chose, and one shared Recorder.

Label and Classify both record through this object, so the device picked in one tab is the one
the other uses, and only one input stream is ever open.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox

from intentdesk.core.audio import microphone as audio_io
from intentdesk.core.audio.io import SAMPLE_RATE as RATE
from intentdesk.core.audio.microphone import InputDevice, MicrophoneError, Recorder, StreamFactory


class Microphone(QObject):
    """Lists input devices, remembers the chosen one and lends out its `Recorder`.

    `changed` fires when the list, the choice or the availability changes; `problem` then says
    in plain words why nothing can be recorded ("" while a device is usable).
    """

    changed = Signal()

    def __init__(self, list_devices: Callable[[], list[InputDevice]],
                 stream_factory: StreamFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._list_devices = list_devices
        self._stream_factory = stream_factory
        self.devices: list[InputDevice] = []
        self.chosen: InputDevice | None = None
        self.problem = ""
        self._recorder: Recorder | None = None
        self.refresh()

    def refresh(self) -> None:
        """List the devices again; keeps the choice when that device is still there."""
        try:
            self.devices = list(self._list_devices())
        except MicrophoneError as error:
            self.devices, self.problem = [], f"Microphone unavailable: {error}."
        else:
            self.problem = "" if self.devices else "Microphone unavailable: no input device found."
        keep = self.chosen if self.chosen in self.devices else None
        self._switch_to(keep or (self.devices[0] if self.devices else None))

    def choose(self, device: InputDevice | None) -> None:
        """Record from `device` from now on (the open stream of the old one is closed)."""
        if device != self.chosen:
            self._switch_to(device)

    def _switch_to(self, device: InputDevice | None) -> None:
        self.close()
        self.chosen = device
        self._recorder = None
        if device is not None:
            self.problem = ""
            index = None if device.index < 0 else device.index
            self._recorder = Recorder(RATE, index, self._stream_factory)
        self.changed.emit()

    @property
    def available(self) -> bool:
        return self._recorder is not None and not self.problem

    @property
    def recorder(self) -> Recorder | None:
        """The shared recorder of the chosen device, open or not; None without a device."""
        return self._recorder

    def open(self) -> Recorder | None:
        """The shared recorder with its stream open, or None (then `problem` says why)."""
        if self._recorder is None:
            return None
        try:
            self._recorder.open()
        except MicrophoneError as error:
            self.problem = f"Microphone unavailable: {error}"
            self.changed.emit()
            return None
        return self._recorder

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()


class DeviceChooser(QComboBox):
    """A device menu bound to a `Microphone`: every chooser in the app shows the same choice."""

    def __init__(self, microphone: Microphone, parent=None) -> None:
        super().__init__(parent)
        self.microphone = microphone
        self.setMinimumWidth(220)
        self.setToolTip("The microphone every tab records from")
        microphone.changed.connect(self._show_devices)
        self.currentIndexChanged.connect(self._chosen)
        self._show_devices()

    def _show_devices(self) -> None:
        self.blockSignals(True)
        self.clear()
        for device in self.microphone.devices:
            self.addItem(device.name, device)
        if self.microphone.chosen in self.microphone.devices:
            self.setCurrentIndex(self.microphone.devices.index(self.microphone.chosen))
        self.setEnabled(bool(self.microphone.devices))
        self.blockSignals(False)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.microphone.devices):
            self.microphone.choose(self.microphone.devices[row])


def play_sound(samples: np.ndarray, rate: int) -> None:
    """Play a clip; without a speaker the error says so in plain words (PortAudio says "device -1")."""
    try:
        audio_io.play(samples, rate)
    except MicrophoneError as error:
        if "device -1" in str(error):
            raise MicrophoneError("no sound output device found: connect speakers or headphones to listen") \
                from error
        raise
