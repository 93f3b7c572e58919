import numpy as np
import pytest
import soundfile as sf

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import AudioError
from tests.helpers import tone


def test_loads_8k_stereo_as_16k_mono(tmp_path):
    left = tone(440, 1.0, 8000)
    path = tmp_path / "phone.wav"
    sf.write(path, np.stack([left, left], axis=1), 8000)
    wave, rate = audio.load_audio(path, 16000)
    assert rate == 16000 and wave.ndim == 1
    assert abs(len(wave) - 16000) <= 2


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_reads_other_formats(tmp_path, fmt):
    path = tmp_path / f"clip.{fmt.lower()}"
    sf.write(path, tone(300, 0.5), 16000, format=fmt)
    wave, rate = audio.load_audio(path)
    assert rate == 16000 and len(wave) > 7000


def test_corrupt_file_names_the_file(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00garbage that is not audio")
    with pytest.raises(AudioError, match="broken.wav: not a readable audio file"):
        audio.load_audio(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        audio.load_audio(tmp_path / "nope.wav")


@pytest.mark.parametrize(("samples", "message"), [
    (np.zeros(0, np.float32), "no audio samples"),
    (np.full(800, 0.1, np.float32), "too short"),
    (np.zeros(16000, np.float32), "silent"),
    (np.array([0.1, np.nan] * 8000, np.float32), "NaN"),
])
def test_bad_arrays_are_rejected(samples, message):
    with pytest.raises(AudioError, match=message):
        audio.check_array(samples, 16000, name="take")


def test_too_long_is_configurable():
    wave = tone(300, 3.0)
    with pytest.raises(AudioError, match="too long"):
        audio.check_array(wave, 16000, limits=audio.AudioLimits(max_seconds=2.0))
    audio.check_array(wave, 16000, limits=audio.AudioLimits(max_seconds=None))


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav: the file holds no audio"):
        audio.load_audio(path)
