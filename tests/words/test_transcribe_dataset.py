"""`transcribe_dataset`: only clips without a transcript, written by the recogniser's id (issue #14)."""

from __future__ import annotations

import threading

import pytest

from intentdesk.core.errors import ModelError
from intentdesk.core.words import transcribe as transcripts


def test_transcribes_only_missing_and_keeps_user_text(tone_dataset, tiny_recogniser):
    store = tone_dataset
    fixed = store.clips[0].file_name
    store.texts.set_transcripts({fixed: "my own words"}, "user")
    seen: list[tuple[int, int]] = []
    written = transcripts.transcribe_dataset(store, str(tiny_recogniser), progress=lambda d, t: seen.append((d, t)))
    assert written == len(store) - 1
    assert seen[0] == (0, len(store) - 1) and seen[-1] == (len(store) - 1, len(store) - 1)
    assert store.find(fixed).transcript == "my own words" and store.find(fixed).transcript_by == "user"
    assert {c.transcript_by for c in store.clips if c.file_name != fixed} == {str(tiny_recogniser)}
    assert transcripts.transcribe_dataset(store, str(tiny_recogniser)) == 0  # nothing left to do


def test_cancel_stops_before_any_batch(tone_dataset, tiny_recogniser):
    cancel = threading.Event()
    cancel.set()
    assert transcripts.transcribe_dataset(tone_dataset, str(tiny_recogniser), cancel=cancel) == 0
    assert len(transcripts.untranscribed(tone_dataset)) == len(tone_dataset)


def test_a_missing_recogniser_is_named(tone_dataset, tmp_path):
    with pytest.raises(ModelError, match="speech recogniser"):
        transcripts.transcribe_dataset(tone_dataset, str(tmp_path / "no-such-model"))
