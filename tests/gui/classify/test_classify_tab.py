"""Classify tab: dropped files, a corrupt one among them, recording, and live mode."""

import pytest
import soundfile as sf

from intentdesk.core.inference.classifier import Classifier
from tests.helpers import drop, open_main_window, tone, write_utterances

RATE = 16000
UTTERANCES = ((300.0, 0.7), (1400.0, 0.7), (700.0, 1.6))  # the last one is told apart by its length
LONGEST_SHORT_CLIP_S = 1.8  # a 0.7 s tone with the live cut's padding is 1.3 s long, the last one 2.2 s


@pytest.fixture
def window(qtbot, tmp_path, tone_model):
    win = open_main_window(qtbot, tmp_path / "settings.ini", write_utterances(tmp_path / "mic.wav", UTTERANCES))
    tab = win.classify_tab
    with qtbot.waitSignal(tab.models.loaded, timeout=30000):
        tab.open_model(tone_model)
    win.microphone.close()  # the Label tab opened it on show: the replayed recording starts again when Classify listens
    yield win
    tab.shutdown()
    win.label_tab.shutdown()


def test_dropped_files_rank_like_the_core_classifier(qtbot, window, tmp_path, tone_model):
    files = []
    for name, freq in (("a.wav", 300), ("b.wav", 1400), ("c.wav", 700)):
        sf.write(tmp_path / name, tone(freq, 0.5, RATE, seed=7), RATE)
        files.append(tmp_path / name)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"definitely not audio")
    tab = window.classify_tab
    with qtbot.waitSignal(tab.batch_done, timeout=30000):
        drop(tab, files[:2] + [bad] + files[2:])
    core = Classifier(tone_model, precision=tab.classifier.precision)  # auto may pick differently under load
    expected = [core.classify_files([f])[0].ranking for f in files]
    assert tab.results.table.rowCount() == 4
    good_rows = [0, 1, 3]
    for row, ranking in zip(good_rows, expected):
        shown = ranking[0].label if ranking[0].score >= tab.threshold.value() else f"uncertain ({ranking[0].label}?)"
        assert tab.results.table.item(row, 1).text() == shown  # the bars' verdict, under the threshold too
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


def test_live_mode_classifies_each_utterance(qtbot, window, monkeypatch):
    """One line per utterance, none skipped. Utterances are classified in order, so once the last
    (long) one is listed, anything heard twice or heard in the quiet would be listed too."""
    tab = window.classify_tab
    heard = []  # the length of every clip the model was asked about, in order
    classify_recording = tab.classifier.classify_recording

    def spy(samples, rate):
        heard.append(len(samples) / rate)
        return classify_recording(samples, rate)

    monkeypatch.setattr(tab.classifier, "classify_recording", spy)
    live = tab.recording.live_list
    tab.recording.live_button.setChecked(True)
    qtbot.waitUntil(lambda: bool(heard) and heard[-1] > LONGEST_SHORT_CLIP_S and live.count() == len(heard),
                    timeout=120000)
    tab.recording.live_button.setChecked(False)
    assert len(heard) == 3 and all(seconds < LONGEST_SHORT_CLIP_S for seconds in heard[:2])
    assert live.count() == 3 and all("skipped" not in live.item(i).text() for i in range(3))


def test_serve_toggle_answers_http_and_counts_requests(qtbot, window, tmp_path):
    import httpx

    tab = window.classify_tab
    tab.serve.button.setChecked(True)
    qtbot.waitUntil(lambda: tab.serve.service is not None, timeout=20000)
    url = tab.serve.service.url
    assert url.startswith("http://127.0.0.1:") and url in tab.serve.info.text()
    assert f"href='{url}/'" in tab.serve.info.text()  # the link opens the help page, which answers
    assert "/classify" in httpx.get(url + "/", timeout=30).text
    sf.write(tmp_path / "x.wav", tone(700, 0.5, RATE), RATE)
    reply = httpx.post(url + "/classify", content=(tmp_path / "x.wav").read_bytes(), timeout=30)
    assert reply.status_code == 200
    assert reply.json()["ranking"][0]["label"] in tab.classifier.labels
    qtbot.waitUntil(lambda: "1 request(s)" in tab.serve.info.text(), timeout=30000)
    tab.serve.button.setChecked(False)
    assert tab.serve.service is None and tab.serve.info.text() == ""
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/classify", content=b"x", timeout=5)


def test_asking_again_for_the_loaded_or_loading_model_does_not_reload(qtbot, window, tone_model, tmp_path):
    tab = window.classify_tab
    tab.open_model(tone_model)  # already loaded
    assert not tab.models.loading
    loads = []
    tab.models.loaded.connect(loads.append)
    other = tmp_path / "other"
    import shutil

    shutil.copytree(tone_model, other)
    tab.open_model(other)
    tab.open_model(other)  # while it loads: not queued a second time
    qtbot.waitUntil(lambda: not tab.models.loading, timeout=30000)  # a queued load would start as the first ends
    assert len(loads) == 1 and tab.model_dir == other.resolve()


@pytest.mark.parametrize(("saved", "shown"), [(0.8, 0.8), ("junk", 0.5), (7.0, 0.5), ("nan", 0.5)])
def test_the_uncertain_threshold_is_kept_across_restarts(qtbot, tmp_path, saved, shown):
    """What the person set comes back; a settings file edited into nonsense gives the default, not an error."""
    from PySide6.QtCore import QSettings

    from intentdesk.gui.classify.tab import THRESHOLD_KEY, ClassifyTab
    from intentdesk.gui.common.microphone import Microphone

    settings_file = str(tmp_path / "s.ini")
    first = ClassifyTab(QSettings(settings_file, QSettings.IniFormat), Microphone(list_devices=lambda: []))
    qtbot.addWidget(first)
    first.threshold.setValue(0.65)
    first.models.settings.sync()
    assert QSettings(settings_file, QSettings.IniFormat).value(THRESHOLD_KEY, type=float) == 0.65
    edited = QSettings(settings_file, QSettings.IniFormat)
    edited.setValue(THRESHOLD_KEY, saved)
    edited.sync()
    again = ClassifyTab(QSettings(settings_file, QSettings.IniFormat), Microphone(list_devices=lambda: []))
    qtbot.addWidget(again)
    assert again.threshold.value() == pytest.approx(shown) and again.results.threshold == pytest.approx(shown)
