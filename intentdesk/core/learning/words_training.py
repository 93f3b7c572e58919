"""Training the words part of a run (issue #14), after its sound model: see `core.words.pipeline`.

The recogniser and the text encoder are loaded before the sound model trains (`load_words_models`),
so a missing model fails at once with a one-line message, not after an hour of training. After the
sound model is scored, `train_words_part` transcribes the clips (the user's corrected transcripts
win), trains the words head on them and the dataset's typed phrases, calibrates the fusion on the
eval split, and puts the sound, words and fused scores into the record; the top level becomes the
fused scores. The part is saved into the same staged folder as the sound model (saving.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intentdesk.core.audio import SAMPLE_RATE
from intentdesk.core.data.metadata_csv import BY_USER
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError, ModelError, problem_of
from intentdesk.core.events import Stage
from intentdesk.core.learning.metrics import classification_metrics
from intentdesk.core.learning.prepared import TrainingRun
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.runs import RunRecord

# The words pipeline's stage names (core/words/pipeline.py), as the progress line says them.
PLAIN_STAGES = {
    "transcribing training clips": "transcribing the training clips (writing down what each one says)",
    "transcribing eval clips": "transcribing the test clips",
    "embedding texts": "reading the sentences",
    "training the words head": "learning your labels from the words",
}


@dataclass
class WordsModels:
    transcriber: object  # core.words.Transcriber
    encoder: object  # core.words.TextEncoder


def load_words_models(settings: TrainSettings, labels: list[str]) -> WordsModels:
    """The recogniser and text encoder `settings` name; `ModelError` (one line) naming the model
    and what to do when one cannot be loaded."""
    from intentdesk.core.models import backbone
    from intentdesk.core.words.asr import Transcriber, vocabulary_prompt
    from intentdesk.core.words.text_encoder import TextEncoder

    device = str(backbone.pick_device(settings.device))
    parts = []
    for what, flag, make in (
            ("speech recogniser", "--asr", lambda: Transcriber(settings.asr, device=device,
                                                               prompt=vocabulary_prompt(labels),
                                                               language=settings.language)),
            ("text encoder", "--text-encoder", lambda: TextEncoder(settings.text_encoder, device=device))):
        try:
            parts.append(make())
        except ModelError as error:
            raise ModelError(f"{problem_of(error)}. Training with words needs the {what}: download it once "
                             f"while online, or give a local model folder ({flag}, or the Train tab's Words "
                             "settings), or train without words") from error
    return WordsModels(*parts)


def known_transcripts(store: DatasetStore, names: list[str], asr: str) -> list[str | None]:
    """For each clip: the user's corrected transcript (or one with no author: typed into metadata.csv by a
    person), or the stored one when this recogniser wrote it (no need to hear it again); None to let the
    recogniser transcribe it."""
    clips = {clip.file_name: clip for clip in store.clips}
    known: list[str | None] = []
    for name in names:
        clip = clips.get(name)
        by = clip.transcript_by if clip is not None else ""
        typed = clip is not None and not by and bool((clip.transcript or "").strip())
        known.append(clip.transcript if clip is not None and (by in (BY_USER, asr) or typed) else None)
    return known


def at_16k(waves: list[np.ndarray], rate: int) -> list[np.ndarray]:
    if rate == SAMPLE_RATE:
        return waves
    from intentdesk.core.audio.io import resample

    return [resample(w, rate, SAMPLE_RATE) for w in waves]


class _Cancelled(Exception):
    """Raised from a progress report when the user cancels while the words part trains."""


def train_words_part(run: TrainingRun, store: DatasetStore, models: WordsModels, eval_sound: np.ndarray):
    """Train, calibrate and score the words part; returns the `TrainedWords` to save, or None when
    the run is cancelled meanwhile (within one batch of clips: transcribing a dataset takes minutes).
    The sound model is then saved alone; the transcripts made so far stay cached for the next run."""
    from intentdesk.core.words.fusion import FusionSettings
    from intentdesk.core.words.pipeline import train_words, word_probabilities

    data, progress = run.data, run.progress

    def report(text: str, done: int, total: int) -> None:
        if run.cancel.is_set():
            raise _Cancelled
        kind = Stage.TRANSCRIBING if text.startswith("transcribing") else Stage.TRAINING_WORDS
        shown = f"Words: {PLAIN_STAGES.get(text, text)}"
        progress.stage(kind, f"{shown}: {done:,} of {total:,}" if total else shown, done, total or None)

    progress.stage(Stage.TRANSCRIBING, "Words: transcribing the clips")
    phrases = store.texts.phrases()
    labels = words_labels(data.labels, phrases)
    rate = run.builder.rate
    try:
        part = train_words(labels, at_16k(data.train_waves, rate), data.train_y.tolist(),
                           at_16k(data.eval_waves, rate), data.eval_y.tolist(), eval_sound, phrases=phrases,
                           train_transcripts=known_transcripts(store, data.train_names, run.settings.asr),
                           recogniser=models.transcriber, text_encoder=models.encoder, progress=report)
    except _Cancelled:
        run.record.cancelled = True
        return None
    part.config["training"]["transcripts_written"] = keep_transcripts(run, store, part)
    part.config["training"]["typed_only_labels"] = labels[len(data.labels):]
    part.config["training"]["corrected_by_user"] = sum(clip.transcript_by == BY_USER for clip in store.clips)
    words, _ = word_probabilities(part.head, models.encoder.encode(part.eval_transcripts), part.eval_transcripts)
    fused = FusionSettings.from_dict(part.config["fusion"]).fuse(eval_sound, words)
    record_scores(run.record, run.data.eval_y.numpy(), labels, eval_sound, words, fused)
    return part


def keep_transcripts(run: TrainingRun, store: DatasetStore, part) -> int:
    """What the recogniser heard in the clips, written into the dataset's transcript column where a clip had
    none (the Label tab shows it, and a wrong one can be corrected for the next run). Only clips heard whole:
    a clip cut at the longest length used would get the transcript of its start only. A dataset that cannot
    be written to (read-only, locked) costs the run nothing: it is said in the log."""
    from intentdesk.core.words.transcribe import keep_what_was_heard

    data, whole = run.data, int(run.settings.max_seconds * run.builder.rate) - 1
    heard = [(name, text) for name, wave, text in zip(data.train_names + data.eval_names,
                                                     [*data.train_waves, *data.eval_waves],
                                                     part.train_transcripts + part.eval_transcripts)
             if len(wave) < whole]
    try:
        written = keep_what_was_heard(store, [n for n, _ in heard], [t for _, t in heard], run.settings.asr)
    except (IntentDeskError, OSError) as error:
        run.progress.stage(Stage.TRAINING_WORDS, f"Words: the transcripts were not written into the dataset "
                                                 f"({problem_of(error)})")
        return 0
    if written:
        run.progress.stage(Stage.TRAINING_WORDS, f"Words: wrote what was heard in {written:,} clips into their "
                                                 "transcripts (the Label tab shows them; correct any that are wrong)")
    return written


def words_labels(sound_labels: list[str], phrases: list[tuple[str, str]]) -> list[str]:
    """The words part's intents: the sound model's, in its id order, then those that have typed phrases and no
    recordings (sorted): learned from the words alone, and ranked by the words (`fusion.widen`)."""
    known = set(sound_labels)
    return list(sound_labels) + sorted({label for label, _ in phrases if label not in known})


def record_scores(record: RunRecord, truth: np.ndarray, labels: list[str], sound: np.ndarray, words: np.ndarray,
                  fused: np.ndarray) -> None:
    """sound / words / fused scores of the eval clips (`truth`: their label numbers) into the record, over all
    the words part's `labels` (an intent with typed phrases only has no test clips: what it was wrongly given
    still counts); the top level (what lists and the GUI show first) becomes the fused model's."""
    record.sound, record.words, record.fused = (classification_metrics(truth, p.argmax(-1), labels)
                                                for p in (sound, words, fused))
    record.sound["eval_loss"] = record.eval_loss
    for name, value in record.fused.items():
        setattr(record, name, value)
    if len(truth):
        picked = np.clip(fused[np.arange(len(truth)), truth], 1e-12, 1.0)
        record.fused["eval_loss"] = record.eval_loss = float(-np.log(picked).mean())
