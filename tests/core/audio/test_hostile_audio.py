"""Hostile and careless audio (reliability issue #12): every case is refused with an AudioError
that says what is wrong, quickly and without decoding more than the limits allow."""

from __future__ import annotations

import io
import os
import struct
import tempfile
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intentdesk.core.audio import io as audio
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import AudioError, AudioTooLong
from intentdesk.core.models.inputs import load_waves
from tests.helpers import frames_decoded, tone

LIMITS = audio.AudioLimits(max_seconds=1.0)


def wav_with_header(rate: int = 16000, channels: int = 1, seconds: float = 0.5) -> bytes:
    """A valid 16-bit WAV whose format chunk then claims `rate` and `channels`."""
    buffer = io.BytesIO()
    sf.write(buffer, tone(300, seconds), 16000, format="WAV", subtype="PCM_16")
    data = bytearray(buffer.getvalue())
    struct.pack_into("<HI", data, 22, channels, rate)
    return bytes(data)


def silent_flac(seconds: float, rate: int = 16000) -> bytes:
    """Silence compresses to almost nothing: an hour is about 180 KB, 230 MB once decoded."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", rate, 1, format="FLAC") as file:
        block = np.zeros(rate * 60, np.float32)
        for _ in range(int(seconds // 60)):
            file.write(block)
    return buffer.getvalue()


def without_length(flac: bytes) -> bytes:
    """The same FLAC with STREAMINFO's total-samples field zeroed ("unknown", as when streamed)."""
    data = bytearray(flac)
    data[21] &= 0xF0
    data[22:26] = b"\0\0\0\0"
    return bytes(data)


def peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
    except AudioError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ------------------------------------------------------------------ #3 #13 #14: in-memory arrays
@pytest.mark.parametrize(("dtype", "full_scale", "offset"), [
    (np.int8, 2**7, 0), (np.int16, 2**15, 0), (np.int32, 2**31, 0),
    (np.uint8, 2**7, 2**7), (np.uint16, 2**15, 2**15),
])
def test_integer_samples_are_scaled_by_their_range(dtype, full_scale, offset):
    wave = np.round(tone(300, 0.5) * (full_scale - 1) + offset).astype(dtype)
    mono = audio.check_array(wave, 16000, "take")
    assert mono.dtype == np.float32
    assert np.allclose(mono, tone(300, 0.5), atol=2.0 / 2**7)


def test_add_array_stores_int16_at_its_level_not_clipped(tmp_path):
    store = DatasetStore.create(tmp_path / "data")
    quiet = (tone(300, 0.5) * 0.25 * 32767).astype(np.int16)
    clip = store.add_array(quiet, 16000, "balance")
    stored, _ = sf.read(store.path_of(clip), dtype="float32")
    assert 0.15 < np.max(np.abs(stored)) < 0.3  # not a full-scale square wave


@pytest.mark.parametrize("value", [1e30, -1e6, 17.0])
def test_absurd_float_samples_are_refused(tmp_path, value):
    wave = np.full(16000, value, np.float32)
    with pytest.raises(AudioError, match="take: the samples are out of range"):
        audio.check_array(wave, 16000, "take")
    store = DatasetStore.create(tmp_path / "data")
    with pytest.raises(AudioError, match="out of range"):
        store.add_array(wave, 16000, "balance")
    assert not store.clips


def test_float_headroom_is_accepted():
    assert np.isclose(np.max(audio.check_array(tone(300, 0.5) * 3, 16000, "take")), np.max(tone(300, 0.5)) * 3)


def test_float_wav_with_huge_samples_is_refused(tmp_path):
    path = tmp_path / "huge.wav"
    sf.write(path, np.full(16000, 1e30, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="huge.wav: the samples are out of range"):
        audio.load_audio(path)


def test_huge_samples_of_opposite_sign_do_not_cancel_out_when_mixed(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([np.full(16000, 1e30), np.full(16000, -1e30)], axis=1).astype(np.float32), 16000,
             subtype="FLOAT")
    with pytest.raises(AudioError, match="out of range"):
        audio.load_audio(path)
    with pytest.raises(AudioError, match="out of range"):
        audio.check_array(np.stack([np.full(16000, 1e30), np.full(16000, -1e30)], axis=1), 16000)


@pytest.mark.parametrize(("samples", "rate", "message"), [
    (tone(300, 0.5), 16000.5, "whole number of Hz"),
    (tone(300, 0.5), "16000", "whole number of Hz"),
    (tone(300, 0.5), None, "whole number of Hz"),
    (tone(300, 0.5), True, "whole number of Hz"),
    (tone(300, 0.5), float("nan"), "whole number of Hz"),
    (tone(300, 0.5), -16000, "sample rate is -16000 Hz"),
    (tone(300, 0.5), 0, "sample rate is 0 Hz"),
    (tone(300, 0.5), 1, "sample rate is 1 Hz"),
    (tone(300, 0.5), 10**9, "sample rate is 1000000000 Hz"),
    (np.array([0.1] * 8000, dtype=object), 16000, "type object"),
    (np.array(["0.1"] * 8000), 16000, "type <U3"),
    (np.zeros((10, 10, 10)), 16000, r"shape \(10, 10, 10\)"),
    (np.float32(0.5), 16000, r"shape \(\)"),
    (np.full(8000, 100, np.int64), 16000, "type int64"),
    (np.ones(8000, bool), 16000, "type bool"),
    (np.ones(8000, np.complex64), 16000, "type complex64"),
    ([[0.1, 0.2], [0.3]], 16000, "not an array of numbers"),
    (np.stack([tone(300, 0.5)] * 2), 16000, "transpose"),
])
def test_bad_arrays_and_rates_raise_audio_error(samples, rate, message):
    with pytest.raises(AudioError, match=message):
        audio.check_array(samples, rate, "take")


def test_check_refuses_bad_rates_instead_of_dividing_by_zero():
    with pytest.raises(AudioError, match="0 Hz"):
        audio.check(tone(300, 0.5), 0, "clip")


# ------------------------------------------------------------------ #6: decompression bombs
@pytest.fixture(scope="module")
def hour_of_silence() -> bytes:
    return silent_flac(3600)


def test_hour_long_flac_upload_is_refused_from_its_header(hour_of_silence, monkeypatch):
    limits = audio.AudioLimits(max_seconds=30)
    decoded = frames_decoded(monkeypatch)
    with pytest.raises(AudioTooLong, match=r"too long \(3600.0 s; the limit is 30 s\)"):
        audio.load_audio(hour_of_silence, 16000, name="upload", limits=limits)
    assert decoded == [], "refused from the header, without decoding a sample"
    assert peak_bytes(lambda: audio.load_audio(hour_of_silence, 16000, limits=limits)) < 1_000_000
    assert peak_bytes(lambda: audio.decode(hour_of_silence, limits=limits)) < 1_000_000


def test_hour_long_flac_file_is_refused_from_its_header(tmp_path, hour_of_silence):
    path = tmp_path / "long.flac"
    path.write_bytes(hour_of_silence)
    assert peak_bytes(lambda: audio.load_audio(path, limits=audio.AudioLimits(max_seconds=30))) < 1_000_000
    with pytest.raises(AudioTooLong, match="too long"):
        audio.load_audio(path, limits=audio.AudioLimits(max_seconds=30))


def test_a_header_that_hides_the_length_is_read_only_up_to_the_limit(hour_of_silence):
    hidden = without_length(hour_of_silence)
    limits = audio.AudioLimits(max_seconds=30)
    with pytest.raises(AudioTooLong, match="more than 30 s"):
        audio.load_audio(hidden, limits=limits)
    # 30 s at 16 kHz is 1.9 MB of float32; the whole hour would be 230 MB
    assert peak_bytes(lambda: audio.load_audio(hidden, limits=limits)) < 8_000_000


def test_without_a_limit_a_clip_is_still_never_read_past_the_hard_bound(hour_of_silence):
    unlimited = audio.AudioLimits(max_seconds=None)
    with pytest.raises(AudioTooLong, match="at most 600 s of 16000 Hz audio"):
        audio.load_audio(hour_of_silence, limits=unlimited)
    with pytest.raises(AudioTooLong, match="at most 600 s of 4000 Hz audio"):
        audio.check_array(np.full(601 * 4000, 0.1, np.float32), 4000, limits=unlimited)


def test_without_a_limit_high_rates_get_the_same_sample_budget():
    """Ten minutes at 384 kHz would be 920 MB of float32: the budget is 10 min at 48 kHz."""
    data = bytearray(silent_flac(60, rate=96000)[:4096])  # a valid start; the header claims 400 s
    total = 400 * 96000
    data[21] = (data[21] & 0xF0) | (total >> 32)
    data[22:26] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    with pytest.raises(AudioTooLong, match=r"too long \(400.0 s; IntentDesk reads at most 300 s of 96000 Hz audio"):
        audio.load_audio(bytes(data), limits=audio.AudioLimits(max_seconds=None))


def test_huge_channel_count_is_refused_before_decoding():
    with pytest.raises(AudioError, match="1000 channels"):
        audio.load_audio(wav_with_header(channels=1000))


# ------------------------------------------------------------------ #7 #10: sample rates
@pytest.mark.parametrize("rate", [0, 1, 3999, 384_001, 2**31])
@pytest.mark.parametrize("as_path", [True, False])
def test_absurd_header_rates_are_refused(tmp_path, rate, as_path):
    path = tmp_path / "odd.wav"
    path.write_bytes(wav_with_header(rate=rate))
    source = path if as_path else path.read_bytes()
    with pytest.raises(AudioError, match=f"sample rate is {rate} Hz"):
        audio.load_audio(source, 16000, limits=audio.AudioLimits(max_seconds=None))
    assert audio.duration_seconds(path) == 0.0


def test_low_rate_header_costs_nothing_to_refuse(tmp_path):
    """32 KB that say 1 Hz used to be resampled to 256 M samples (1.1 GB)."""
    path = tmp_path / "one-hertz.wav"
    path.write_bytes(wav_with_header(rate=1, seconds=1.0))
    assert peak_bytes(lambda: audio.load_audio(path, 16000, limits=audio.AudioLimits(max_seconds=None))) < 1_000_000
    waves, errors = load_waves([path], 16000, 8.0)
    assert len(errors) == 1 and "1 Hz" in errors[0] and waves[0].size == 0


def test_training_cuts_before_resampling(tmp_path):
    path = tmp_path / "long-phone-call.wav"
    sf.write(path, tone(300, 120.0, 8000), 8000, subtype="PCM_16")
    waves, errors = load_waves([path], 16000, 2.0)
    assert not errors and len(waves[0]) == 2 * 16000
    # two minutes decoded (3.8 MB) and resampled (7.7 MB) before: now only the 2 s kept
    assert peak_bytes(lambda: load_waves([path], 16000, 2.0)) < 2_000_000


def test_a_zero_rate_file_fails_alone_in_a_batch(tmp_path):
    good, bad = tmp_path / "good.wav", tmp_path / "zero.wav"
    sf.write(good, tone(300, 0.5), 16000)
    bad.write_bytes(wav_with_header(rate=0))
    waves, errors = load_waves([bad, good], 16000, None)
    assert len(errors) == 1 and "zero.wav" in errors[0] and len(waves[1]) == 8000
    store = DatasetStore.create(tmp_path / "data")
    report = store.add_files([(bad, "balance", {}), (good, "balance", {})])
    assert len(store.clips) == 1 and len(report.skipped) == 1 and "0 Hz" in report.skipped[0]


# ------------------------------------------------------------------ #16: plain messages
def test_text_named_mp3_says_it_is_text(tmp_path):
    path = tmp_path / "song.mp3"
    path.write_text("this is a shopping list, not a song\n" * 20)
    with pytest.raises(AudioError, match=r"song.mp3: not an audio file \(its content is text\)"):
        audio.load_audio(path)
    with pytest.raises(AudioError, match=r"not an audio file \(its content is text\)"):
        audio.load_audio(path.read_bytes())


def test_unknown_binary_says_so(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(AudioError, match=r"not an audio file \(its content is unknown\)"):
        audio.load_audio(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_says_permission_denied(tmp_path):
    path = tmp_path / "locked.wav"
    sf.write(path, tone(300, 0.5), 16000)
    path.chmod(0)
    try:
        with pytest.raises(AudioError, match="locked.wav: cannot read the file: permission denied"):
            audio.load_audio(path)
    finally:
        path.chmod(0o644)


def test_permission_denied_message(tmp_path, monkeypatch):
    """The same as above where the tests run as root (whom chmod 000 does not stop)."""
    path = tmp_path / "locked.wav"
    sf.write(path, tone(300, 0.5), 16000)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(audio, "open", denied, raising=False)
    with pytest.raises(AudioError, match="locked.wav: cannot read the file: permission denied"):
        audio.load_audio(path)


def test_folder_named_like_audio_says_it_is_a_folder(tmp_path):
    folder = tmp_path / "x.wav"
    folder.mkdir()
    with pytest.raises(AudioError, match="x.wav: is a folder, not an audio file"):
        audio.load_audio(folder)
    assert audio.duration_seconds(folder) == 0.0


@pytest.mark.parametrize("as_path", [True, False])
def test_zero_byte_file_says_empty(tmp_path, as_path):
    path = tmp_path / "nothing.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"the file is empty \(0 bytes\)"):
        audio.load_audio(path if as_path else b"")


@pytest.mark.parametrize(("length", "message"), [
    (12, "the WAV header is truncated"), (20, "the WAV header is truncated"),
    (30, "damaged or unsupported: Error in WAV file. No 'data' chunk marker"),
])
def test_truncated_header_says_damaged(length, message):
    with pytest.raises(AudioError, match=rf"audio: not a readable audio file \({message}"):
        audio.load_audio(wav_with_header()[:length])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "stream.wav"
    os.mkfifo(pipe)
    with pytest.raises(AudioError, match="not a regular file"):
        audio.load_audio(pipe)


def test_duration_never_raises_on_hostile_files(tmp_path):
    cases = {"text.mp3": b"hello\n" * 50, "empty.wav": b"", "zero.wav": wav_with_header(rate=0),
             "slow.wav": wav_with_header(rate=1), "wide.wav": wav_with_header(channels=1000),
             "cut.wav": wav_with_header()[:30]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert audio.duration_seconds(tmp_path / name) >= 0.0
    assert audio.duration_seconds(tmp_path / "slow.wav") == 0.0
    assert audio.duration_seconds(tmp_path / "missing.wav") == 0.0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_duration_of_a_named_pipe_does_not_block(tmp_path):
    """The clip table asks every file for its duration; opening a pipe waits for a writer."""
    pipe = tmp_path / "stream.wav"
    os.mkfifo(pipe)
    answer: list[float] = []
    worker = threading.Thread(target=lambda: answer.append(audio.duration_seconds(pipe)), daemon=True)
    worker.start()
    worker.join(timeout=60)  # a blocked open fails the test after this, instead of hanging it
    if worker.is_alive():  # unblock the reader before failing
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert answer == [0.0]


# ------------------------------------------------------------------ fuzz: mutated headers
def _small_file(fmt: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(300, 0.3), 16000, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


SEEDS = {"WAV": _small_file("WAV"), "FLAC": _small_file("FLAC")}


@st.composite
def mutated_audio(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, 63))] = draw(st.integers(0, 255))
    ending = draw(st.sampled_from(["keep", "truncate", "extend"]))
    if ending == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif ending == "extend":
        data += draw(st.binary(min_size=1, max_size=2048))
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_audio(), as_path=st.booleans())
def test_mutated_headers_give_usable_audio_or_audio_error(data, as_path):
    with tempfile.TemporaryDirectory() as folder:
        source: Path | bytes = data
        if as_path:
            source = Path(folder) / "fuzz.wav"
            source.write_bytes(data)
        try:
            wave, rate = audio.load_audio(source, limits=LIMITS)
        except AudioError:
            return
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert np.all(np.isfinite(wave)) and np.max(np.abs(wave)) <= audio.MAX_PEAK
    assert audio.MIN_RATE <= rate <= audio.MAX_RATE
    assert LIMITS.min_seconds * rate <= len(wave) <= LIMITS.max_seconds * rate


def test_audio_cut_short_is_not_called_text():
    with pytest.raises(AudioError, match=r"not a readable audio file \(damaged or unsupported"):
        audio.load_audio(b"RIFF")


def test_impossible_path_names_are_audio_errors(tmp_path):
    with pytest.raises(AudioError, match="cannot read the file: embedded null byte"):
        audio.load_audio(tmp_path / "bad\0name.wav")
    with pytest.raises(AudioError, match="cannot read the file: file name too long"):
        audio.load_audio(tmp_path / ("x" * 300 + ".wav"))


def test_bytearray_and_memoryview_uploads_are_read_like_bytes():
    buffer = io.BytesIO()
    sf.write(buffer, tone(300, 0.5), 16000, format="WAV")
    for data in (bytearray(buffer.getvalue()), memoryview(buffer.getvalue())):
        wave, rate = audio.load_audio(data)
        assert rate == 16000 and len(wave) == 8000
    with pytest.raises(AudioError, match="its content is text"):
        audio.load_audio(bytearray(b"not audio at all\n" * 10))
