"""Classify tab: dropped files, a corrupt one among them, recording, and live mode."""

import pytest
import soundfile as sf
from PySide6.QtCore import QSettings

from intentdesk.core.audio.microphone import InputDevice, replay_factory
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.learning.trainer import TrainSettings, train
from intentdesk.gui.main_window import MainWindow
from tests.helpers import drop, tone, write_tone_folder, write_two_utterances

RATE = 16000


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_wav2vec2):
    from intentdesk.core.data.importers import import_into
    from intentdesk.core.data.store import DatasetStore

    root = tmp_path_factory.mktemp("classify")
    store = DatasetStore.create(root / "data")
    import_into(store, str(write_tone_folder(root / "src", per_label=8)))
    settings = TrainSettings(base_model=str(tiny_wav2vec2), epochs=5, learning_rate=3e-3, head_learning_rate=3e-3,
                             batch_size=4, label_smoothing=0.0)
    return train(store.root, root / "model", settings).output_dir


@pytest.fixture
def window(qtbot, tmp_path, model_dir):
    wav = write_two_utterances(tmp_path / "mic.wav")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings, stream_factory=replay_factory(wav, speed=2.0, loop=False),
                     list_devices=lambda: [InputDevice(-1, "Replay microphone")])
    qtbot.addWidget(win)
    win.show()
    tab = win.classify_tab
    with qtbot.waitSignal(tab.model_ready, timeout=30000):
        tab.open_model(model_dir)
    yield win
    tab.shutdown()
    win.label_tab.shutdown()


def test_dropped_files_rank_like_the_core_classifier(qtbot, window, tmp_path, model_dir):
    files = []
    for name, freq in (("a.wav", 300), ("b.wav", 1400), ("c.wav", 700)):
        sf.write(tmp_path / name, tone(freq, 0.5, RATE, seed=7), RATE)
        files.append(tmp_path / name)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"definitely not audio")
    tab = window.classify_tab
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        drop(tab, files[:2] + [bad] + files[2:])
    core = Classifier(model_dir, precision=tab.classifier.precision)  # auto may pick differently under load
    expected = [core.classify_file(f).ranking for f in files]
    assert tab.results.table.rowCount() == 4
    good_rows = [0, 1, 3]
    for row, ranking in zip(good_rows, expected):
        assert tab.results.table.item(row, 1).text() == ranking[0].label
        assert float(tab.results.table.item(row, 2).text()) == pytest.approx(ranking[0].score, abs=1e-3)
    assert tab.results.table.item(2, 1).text() == "unreadable" and "broken.wav" in tab.message.text()
    tab.results.table.selectRow(1)
    assert tab.bars.labels_in_order() == [p.label for p in expected[1]]
    out = tmp_path / "results.csv"
    tab.results.export_csv(out)
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and lines[1].split(",")[1] == expected[0][0].label


def test_threshold_marks_uncertain(qtbot, window, tmp_path):
    tab = window.classify_tab
    sf.write(tmp_path / "x.wav", tone(700, 0.5, RATE), RATE)
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        tab.classify_files([tmp_path / "x.wav"])
    tab.threshold.setValue(1.0)
    assert tab.bars.headline.text().startswith("Uncertain")
    tab.threshold.setValue(0.0)
    assert not tab.bars.headline.text().startswith("Uncertain")


def test_record_through_fake_microphone(qtbot, window):
    tab = window.classify_tab
    tab.recording.toggle_record()
    qtbot.waitUntil(lambda: tab.recording.recorder.recorded_seconds > 1.5, timeout=10000)
    tab.recording.toggle_record()
    qtbot.waitUntil(lambda: len(tab.bars.rows) == 3, timeout=10000)
    assert tab.wave.point_count() > 0


def test_live_mode_classifies_each_utterance(qtbot, window):
    tab = window.classify_tab
    tab.recording.live_button.setChecked(True)
    qtbot.waitUntil(lambda: tab.recording.live_list.count() >= 2, timeout=20000)
    qtbot.wait(1500)
    tab.recording.live_button.setChecked(False)
    assert tab.recording.live_list.count() == 2
    assert all("skipped" not in tab.recording.live_list.item(i).text() for i in range(2))


def test_serve_toggle_answers_http_and_counts_requests(qtbot, window, tmp_path):
    import httpx

    tab = window.classify_tab
    tab.serve.button.setChecked(True)
    qtbot.waitUntil(lambda: tab.serve.service is not None, timeout=20000)
    url = tab.serve.service.url
    assert url.startswith("http://127.0.0.1:") and url in tab.serve.info.text()
    sf.write(tmp_path / "x.wav", tone(700, 0.5, RATE), RATE)
    reply = httpx.post(url + "/classify", content=(tmp_path / "x.wav").read_bytes(), timeout=30)
    assert reply.status_code == 200
    assert reply.json()["ranking"][0]["label"] in tab.classifier.labels
    qtbot.waitUntil(lambda: "1 request(s)" in tab.serve.info.text(), timeout=3000)
    tab.serve.button.setChecked(False)
    assert tab.serve.service is None and tab.serve.info.text() == ""
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/classify", content=b"x", timeout=5)


def test_asking_again_for_the_loaded_or_loading_model_does_not_reload(qtbot, window, model_dir, tmp_path):
    tab = window.classify_tab
    tab.open_model(model_dir)  # already loaded
    assert not tab.models.loading
    loads = []
    tab.model_ready.connect(loads.append)
    other = tmp_path / "other"
    import shutil

    shutil.copytree(model_dir, other)
    tab.open_model(other)
    tab.open_model(other)  # while it loads: not queued a second time
    qtbot.waitUntil(lambda: not tab.models.loading, timeout=30000)
    qtbot.wait(200)
    assert len(loads) == 1 and tab.model_dir == other.resolve()
