"""Automatic transcription covers the clips just added, never the whole dataset (issue #25)."""

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.words import transcribe as transcripts
from tests.helpers import RATE, tone


class Heard:
    def __init__(self):
        self.heard = 0

    def transcribe(self, waves):
        self.heard += len(waves)
        return ["words"] * len(waves)


def test_only_the_named_clips_are_transcribed(tmp_path, monkeypatch):
    store = DatasetStore.create(tmp_path / "data")
    old = [store.add_array(tone(300 + 40 * n, 0.4, seed=n), RATE, "balance") for n in range(3)]
    new = store.add_array(tone(900, 0.4, seed=9), RATE, "balance")
    recogniser = Heard()
    monkeypatch.setattr(transcripts, "load_transcriber", lambda asr, labels: recogniser)
    assert transcripts.transcribe_dataset(store, "asr", only=[new.file_name]) == 1
    assert recogniser.heard == 1 and [c.file_name for c in store.clips if c.transcript] == [new.file_name]
    assert transcripts.transcribe_dataset(store, "asr") == len(old), "the button still does the rest"
