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


def test_a_transcript_typed_into_metadata_csv_without_an_author_is_kept(tone_dataset, tiny_recogniser):
    """A hand-edited (or imported) metadata.csv: text in `transcript`, nothing in `transcript_by`. Neither
    `transcribe` nor what a training run heard may replace it, and training uses it as the user's."""
    from intentdesk.core.data.metadata_csv import TRANSCRIPT, Clip
    from intentdesk.core.learning.words_training import known_transcripts

    store = tone_dataset
    typed = store.clips[0].file_name
    store.change_rows(lambda rows: [Clip(c.file_name, c.label, {**c.extra, TRANSCRIPT: "HAND TYPED"})
                                    if c.file_name == typed else c for c in rows])
    assert typed not in {c.file_name for c in transcripts.untranscribed(store)}
    others = [c.file_name for c in store.clips if c.file_name != typed]
    written = transcripts.keep_what_was_heard(store, [typed, others[0]], ["heard", "heard too"], str(tiny_recogniser))
    assert written == 1 and store.find(typed).transcript == "HAND TYPED" and store.find(typed).transcript_by == ""
    assert store.find(others[0]).transcript == "heard too"
    assert known_transcripts(store, [typed, others[1]], str(tiny_recogniser)) == ["HAND TYPED", None]
    transcripts.transcribe_dataset(store, str(tiny_recogniser))
    assert store.find(typed).transcript == "HAND TYPED"
