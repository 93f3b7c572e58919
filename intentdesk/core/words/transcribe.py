"""Transcribe a dataset's clips with the speech recogniser into metadata.csv's `transcript` column
(the words room using the data store: the store itself knows nothing of recognisers).

Only clips without a transcript are recognised; each batch is written as soon as it is done (so
a cancelled or interrupted run keeps what it did), with `transcript_by` = the recogniser's id, and
never over a transcript the user corrected. The recogniser caches by clip content (core/words),
so training with words later re-uses these transcripts for free: it uses the same prompt. Training with words
writes what it heard the same way (`keep_what_was_heard`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence

from intentdesk.core.audio.io import SAMPLE_RATE
from intentdesk.core.data.metadata_csv import Clip
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.models.hub import DEFAULT_RECOGNISER

LONGEST_SECONDS = 30.0
BATCH = 16
_loaded: dict[tuple[str, str], object] = {}  # the last recogniser loaded: the GUI transcribes clip by clip
_loaded_lock = threading.Lock()


def recogniser_id(asr: str | None) -> str:
    """What `transcript_by` says: the recogniser's hub id or folder."""
    return str(asr or DEFAULT_RECOGNISER)


def load_transcriber(asr: str | None, labels: list[str]):
    """The recogniser (kept loaded for the next call), with the prompt training uses for these labels;
    `ModelError` naming the model and what to do when it cannot be loaded."""
    from intentdesk.core.words.asr import Transcriber, vocabulary_prompt

    source, prompt = recogniser_id(asr), vocabulary_prompt(labels)
    with _loaded_lock:
        transcriber = _loaded.get((source, prompt))
        if transcriber is None:
            transcriber = Transcriber(source, prompt=prompt)
            _loaded.clear()
            _loaded[(source, prompt)] = transcriber
    return transcriber


def untranscribed(store: DatasetStore) -> list[Clip]:
    """Clips with no transcript yet (neither recognised nor typed). A transcript with no author (metadata.csv
    edited by hand, or imported from elsewhere) is a person's text too: it is kept, not heard again."""
    return [clip for clip in store.clips if not clip.transcript_by and not (clip.transcript or "").strip()]


def keep_what_was_heard(store: DatasetStore, names: Sequence[str], texts: Sequence[str | None],
                        asr: str | None) -> int:
    """Write the transcripts a training run made (clip `names`, what `asr` heard in each) into the clips that had
    none, as `transcribe_dataset` would have: the Label tab shows them and they can be corrected. A transcript
    already there, the user's or a recogniser's, stays. Returns how many rows were written."""
    empty = {clip.file_name for clip in untranscribed(store)}
    heard = {name: text for name, text in zip(names, texts) if name in empty and text is not None}
    return store.texts.set_transcripts(heard, recogniser_id(asr)) if heard else 0


def transcribe_dataset(store: DatasetStore, asr: str | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       cancel: threading.Event | None = None, only: Collection[str] | None = None) -> int:
    """Transcribe every clip that has no transcript (with `only`: those of these file names); returns
    how many rows were written.

    `progress(done, total)` after each batch; `cancel` stops between batches (what is done stays).
    Unreadable clips are skipped (they get no transcript)."""
    from intentdesk.core.models.inputs import load_waves  # torch: not at import

    wanted = set(only) if only is not None else None
    todo = [clip for clip in untranscribed(store) if wanted is None or clip.file_name in wanted]
    total, done, written = len(todo), 0, 0
    if progress:
        progress(0, total)
    if not todo:
        return 0
    transcriber = load_transcriber(asr, store.labels())
    by = recogniser_id(asr)
    for start in range(0, total, BATCH):
        if cancel is not None and cancel.is_set():
            break
        batch = todo[start:start + BATCH]
        waves, _errors = load_waves([store.path_of(c) for c in batch], SAMPLE_RATE, LONGEST_SECONDS,
                                    [c.file_name for c in batch])
        readable = [(clip, wave) for clip, wave in zip(batch, waves) if len(wave)]
        texts = transcriber.transcribe([wave for _, wave in readable]) if readable else []
        written += store.texts.set_transcripts({clip.file_name: text for (clip, _), text in zip(readable, texts)}, by)
        done += len(batch)
        if progress:
            progress(done, total)
    return written
