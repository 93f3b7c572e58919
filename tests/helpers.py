"""Helpers shared by test modules (tones, tone folders, drops): import them from here, never from another test."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
TONES = {"high": 1400.0, "low": 300.0, "mid": 700.0}


def tone(freq: float, seconds: float = 0.6, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A tone with a little noise and a random level: learnable, but not a constant input."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    level = rng.uniform(0.3, 0.8)
    wave = level * np.sin(2 * np.pi * freq * (1 + rng.uniform(-0.03, 0.03)) * t)
    return (wave + rng.normal(0, 0.02, t.shape)).astype(np.float32)


def write_tone_folder(root: Path, per_label: int = 8, rate: int = RATE, labels=TONES) -> Path:
    """root/<label>/<n>.wav: the layout of `intentdesk import FOLDER`."""
    for label, freq in labels.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for n in range(per_label):
            seconds = 0.4 + 0.05 * (n % 5)
            sf.write(root / label / f"{label}{n}.wav", tone(freq, seconds, rate, seed=n + int(freq)), rate)
    return root


def drop(widget, paths) -> None:
    """Deliver a file drop of `paths` to `widget`, as a drag from a file manager would."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    widget.dropEvent(event)


def write_utterances(path: Path, tones=((300.0, 0.7), (1400.0, 0.7)), rate: int = RATE) -> Path:
    """A recording of a quiet room with one spoken utterance per (Hz, seconds) tone, each after 1 s of
    quiet (the first at 1.0 s) and 2 s of quiet at the end, for driving live mode through `replay_factory`.
    A test that must know nothing else was heard adds a last, different tone and waits for that one."""
    rng = np.random.default_rng(1)
    gap = np.zeros(int(1.0 * rate))
    parts = [part for n, (freq, seconds) in enumerate(tones) for part in (gap, tone(freq, seconds, rate, seed=3 * n))]
    wave = np.concatenate([*parts, gap, gap])
    sf.write(path, (wave + rng.normal(0, 0.002, len(wave))).astype(np.float32), rate)
    return path


def write_two_utterances(path: Path, rate: int = RATE) -> Path:
    """Two utterances: 300 Hz at 1.0 s, then 1400 Hz at 2.7 s (`write_utterances`' default)."""
    return write_utterances(path, rate=rate)


def wait_until(condition, timeout_s: float = 120.0, what: str = "the condition") -> None:
    """Poll `condition` until it holds (qtbot.waitUntil for code without Qt). The timeout only ends a
    test that would hang; it is long because a loaded machine is slow, and passing tests never reach it."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.01)


def settle() -> None:
    """Let Qt deliver what it has queued (layout requests, resizes, zero-time timers, queued signals),
    so that a check sees widgets as they stay; `qtbot.wait(50)` only hoped 50 ms was enough."""
    from PySide6.QtCore import QCoreApplication

    for _ in range(5):  # a delivered event may post more (a layout resizes, the resize relayouts)
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()


def frames_decoded(monkeypatch) -> list[int]:
    """Spy on soundfile: the returned list gets the length of every block of samples decoded, so a test
    can tell "refused from the header" (nothing decoded) from "decoded, then refused"."""
    read = sf.SoundFile.read
    decoded: list[int] = []

    def counting(self, *args, **kwargs):
        block = read(self, *args, **kwargs)
        decoded.append(len(block))
        return block

    monkeypatch.setattr(sf.SoundFile, "read", counting)
    return decoded


def open_main_window(qtbot, settings_file: Path, mic_wav: Path | None = None, devices=None):
    """The real main window, offscreen, with throw-away settings and a replayed microphone
    (`devices`: what the device list gives; by default one replay device)."""
    from PySide6.QtCore import QSettings

    from intentdesk.core.audio.microphone import InputDevice
    from intentdesk.core.audio.replay import replay_factory
    from intentdesk.gui.main_window import MainWindow

    devices = [InputDevice(-1, "Replay microphone")] if devices is None else devices
    factory = replay_factory(mic_wav, speed=2.0, loop=False) if mic_wav is not None else None
    window = MainWindow(QSettings(str(settings_file), QSettings.IniFormat), stream_factory=factory,
                        list_devices=lambda: list(devices))
    qtbot.addWidget(window)
    window.show()
    return window



def main_window_on_new_dataset(qtbot, tmp_path: Path):
    """The real main window on a new, empty dataset in `tmp_path` (for a fixture: yields it, then stops
    its tabs' background work)."""
    window = open_main_window(qtbot, tmp_path / "settings.ini")
    window.open_dataset(tmp_path / "data", create=True)
    qtbot.waitExposed(window)
    yield window
    window.label_tab.shutdown()
    window.classify_tab.shutdown()

def run_cli(*args, check: bool = True, separate_process: bool = False):
    """`intentdesk ARGS` as a user types it: a CompletedProcess with its exit code, stdout and stderr;
    raises on a non-zero exit when `check`. It runs in this process, through the console script's
    `intentdesk.entry.main`, with stdout and stderr captured down to file descriptors 1 and 2 (so what a
    library prints on its own is caught too): a subprocess paid 3-7 s of CPU per command to import torch
    and transformers again. `separate_process` runs `python -m intentdesk` instead (the GUI commands,
    and a few tests that the real process start is checked by)."""
    import subprocess
    import sys

    argv = [str(arg) for arg in args]
    if separate_process:
        proc = subprocess.run([sys.executable, "-m", "intentdesk", *argv], capture_output=True, text=True,
                              timeout=300)
    else:
        from intentdesk.entry import main

        with _captured_output() as output:
            code = main(argv)
        proc = subprocess.CompletedProcess(["intentdesk", *argv], code, *output)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


@contextlib.contextmanager
def _captured_output():
    """Everything written to stdout and stderr inside the block, through `sys.stdout`/`sys.stderr` or
    straight to file descriptors 1 and 2; the list yielded gets (stdout, stderr) when the block ends."""
    import os
    import sys
    import tempfile

    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8")) for _ in range(2)]
        sys.stdout.flush()
        sys.stderr.flush()
        saved_streams, saved_fds = (sys.stdout, sys.stderr), [os.dup(1), os.dup(2)]
        output: list[str] = []
        try:
            for fd, file in zip((1, 2), files):
                os.dup2(file.fileno(), fd)
            sys.stdout, sys.stderr = files
            yield output
        finally:
            for file in files:
                file.flush()
            sys.stdout, sys.stderr = saved_streams
            for fd, saved in zip((1, 2), saved_fds):
                os.dup2(saved, fd)
                os.close(saved)
            for file in files:
                file.seek(0)
                output.append(file.read())


def wav_bytes(seconds: float = 1.0, freq: float = 440.0, rate: int = RATE) -> bytes:
    """A tone as the bytes of a WAV file: what a client uploads."""
    import io

    buffer = io.BytesIO()
    sf.write(buffer, tone(freq, seconds, rate), rate, format="WAV")
    return buffer.getvalue()


class ScriptedMicrophone:
    """A stream factory (the shape `Recorder` takes) whose streams hear only what the test plays into them,
    in the test's thread: a take then holds exactly the samples played between Record and Stop, where a
    replayed file runs on in real time and a slow machine puts more or less of it into the take."""

    def __init__(self) -> None:
        self.streams: list[_ScriptedStream] = []

    def __call__(self, *, blocksize: int, callback, **_ignored) -> _ScriptedStream:
        stream = _ScriptedStream(blocksize, callback)
        self.streams.append(stream)
        return stream

    def play(self, samples: np.ndarray) -> None:
        """Deliver `samples` to the open stream, block by block, as a sound card would."""
        self.streams[-1].play(samples)


class _ScriptedStream:
    def __init__(self, blocksize: int, callback) -> None:
        self.blocksize, self.callback = blocksize, callback

    def play(self, samples: np.ndarray) -> None:
        for start in range(0, len(samples), self.blocksize):
            block = np.zeros(self.blocksize, np.float32)
            chunk = samples[start:start + self.blocksize]
            block[:len(chunk)] = chunk
            self.callback(block.reshape(-1, 1), self.blocksize, None, None)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass
