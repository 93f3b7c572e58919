"""The words engine: what was said (transcript -> sentence embedding -> words head), fused with the sound model.

A sound model learns the recordings it was trained on: on new voices saying the training wordings
it is right ~97 % of the time, on NEW wordings of the same intents only 38-68 % (BENCHMARKS.md
section 8). The words carry the intent, so a speech recogniser transcribes each clip, a sentence
encoder embeds the transcript, a small head classifies the embedding, and the two opinions are
fused (calibrated product of experts). A clip whose transcript is unlike every training text,
nearer everyday small talk than any training text, or whose fused answer is weak, is "uncertain"
(out of scope). No Qt here: functions take arrays, texts and paths, and report progress through
plain callbacks `(stage, done, total)`.

Modules (each does one job):

- `asr`: `Transcriber` - any HF speech recogniser; Whisper with a window fitted to the clip,
  greedy decoding, an intent-vocabulary prompt; transcripts cached on disk.
- `text_encoder`: `TextEncoder` - any HF text encoder, mean-pooled and unit length; cached.
- `head`: `WordsHead`, `train_head` - logistic regression over embeddings + the bank of training
  texts for `max_similarity` + the background bank for `background_margin`.
- `background`: the shipped everyday sentences that are no intent (`resources/background_phrases.txt`).
- `fusion`: temperature scaling, `fuse`, `FusionSettings` (weight, temperatures, thresholds).
- `layout`: `save_words` / `load_words` / `has_words` - the words part inside a model folder.
- `checks`: every value of those files (and of the recogniser's generation settings) checked when it
  loads: types, finite numbers in range, bounded sizes; `BadEntry` names the entry that is not.
- `pipeline`: `train_words` (training) and `WordsModel.load(...).score(...)` (inference).
- `cache`: the SQLite key-value cache both caches use.

Layout of a model folder with a words part (the sound model stays an ordinary Hugging Face
folder, so `pipeline("audio-classification", model=MODEL)` still works and ignores `words/`):

    MODEL/config.json, model.safetensors, preprocessor_config.json, ...   the sound model
    MODEL/words/words_config.json   {"format": "intentdesk-words", "version": 1,
                                     "labels": [...same order as the sound model's id2label...],
                                     "recogniser": {"source", "fingerprint", "fit_window", "window_step",
                                                    "window_padding", "max_new_tokens", "prompt", "num_beams"},
                                     "text_encoder": {"source", "fingerprint", "dim"},
                                     "fusion": {"words_weight", "t_sound", "t_words", "min_similarity", "min_top",
                                                "min_margin" (null or absent: no background rule)},
                                     "metrics": {...eval split...}, "training": {...}, "head": {...}}
    MODEL/words/head.safetensors    weight (labels x dim), bias (labels), bank (texts x dim), bank_labels,
                                    background (sentences x dim; absent in parts made before it existed)

Caches live in `<IntentDesk cache>/words/` (`INTENTDESK_CACHE` overrides the folder):
`transcripts.sqlite` keyed by (clip content hash, recogniser fingerprint) and
`text_embeddings.sqlite` keyed by (normalised text, encoder fingerprint).
"""

from intentdesk.core.words.asr import DEFAULT_RECOGNISER, Transcriber, normalise_text, vocabulary_prompt
from intentdesk.core.words.fusion import FusionSettings, fuse
from intentdesk.core.words.head import WordsHead, train_head
from intentdesk.core.words.layout import has_words, load_words, save_words, words_folder
from intentdesk.core.words.pipeline import TrainedWords, WordsModel, WordsResult, train_words
from intentdesk.core.words.text_encoder import DEFAULT_TEXT_ENCODER, TextEncoder

__all__ = ["DEFAULT_RECOGNISER", "DEFAULT_TEXT_ENCODER", "FusionSettings", "TextEncoder", "TrainedWords",
           "Transcriber", "WordsHead", "WordsModel", "WordsResult", "fuse", "has_words", "load_words",
           "normalise_text", "save_words", "train_head", "train_words", "vocabulary_prompt", "words_folder"]
