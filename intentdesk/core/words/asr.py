"""Speech to text for the words model: any Hugging Face recogniser, Whisper with a fitted window.

Whisper pads every clip to 30 s; for 2-6 s intent clips that is 5-15x wasted encoder work. Here
each batch gets a window fitted to its longest clip (rounded up to `window_step` seconds): the
mel features are computed for that window and the encoder's position table is sliced to match
for the duration of the call (the same trick `backbone.fit_whisper_window` uses for the
classifier, but temporary, so one loaded model serves every length). Clips are grouped by window
so a batch pads little; decoding is greedy with at most `max_new_tokens` tokens (fewer when the
prompt leaves less room), by the words part's own settings: of the recogniser folder's generation
settings only its token ids are used, checked (`checks.whisper_generation`). Other
architectures (Wav2Vec2-CTC, ...) go through `transformers.pipeline("automatic-speech-recognition")`.

No speech, no words: on line hiss, hum, beeps or babble Whisper still writes something ("I'll pay,",
"I'm still still still"), which the words part would then rank like a caller's sentence. Whisper also
says how likely a clip holds no speech (its no-speech token's probability right after the start of
transcript token, which OpenAI's and transformers' long-form decoding read too; read here without the
intent-name prompt, which separated speech from noise better and costs one decoder step); above
`no_speech_threshold` the transcript is "" (nothing heard), so the clip is left to the sound model and
answered uncertain.

Transcripts are cached on disk, keyed by the clip's content hash and the recogniser's
fingerprint (weights + decoding settings), so re-training or re-evaluating costs nothing.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from intentdesk.core.audio import SAMPLE_RATE as RATE  # what the recogniser reads
from intentdesk.core.errors import ModelError, ModelUnavailable
from intentdesk.core.models.hub import DEFAULT_RECOGNISER
from intentdesk.core.words import checks
from intentdesk.core.words.cache import KeyValueCache, default_cache_dir, wave_key, weights_fingerprint

WORDS_HINT = "the words model needs it (choose a local copy, or classify by sound only)"
FRESH_COPY = "get a fresh copy of that recogniser (or classify by sound only)"
MAX_NEW_TOKENS = 40
# The language a multilingual recogniser is told the clips are in: without one it detects a language per
# clip (and got 3 of 164 English clips wrong, writing Polish or Thai; BENCHMARKS.md 8d).
DEFAULT_LANGUAGE = "en"
TOKENS_PER_SECOND = 6  # spoken English is 2-4 words (3-5 tokens) a second: more means a decoding loop
WINDOW_STEP_SECONDS = 2.0
WINDOW_PADDING_SECONDS = 2.0  # trailing silence Whisper needs to end its transcript (measured: less loops)
LONGEST_SECONDS = 30.0
# Whisper's no-speech probability above which a clip counts as holding no speech, chosen on the validation
# corpora (BENCHMARKS.md 16): no spoken clip there passed 0.40 (tiny.en) or 0.42 (base), while 36 of 36 noise
# clips passed 0.5 with tiny.en and 35 of 36 with base.
NO_SPEECH_THRESHOLD = 0.5
Progress = Callable[[int, int], None]


def normalise_text(text: str) -> str:
    """Lower case, words only (apostrophes kept), single spaces: how transcripts and typed phrases
    are compared and embedded, so "Freeze my card." and "freeze my card" are the same input."""
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).split())


def vocabulary_prompt(labels: Sequence[str]) -> str:
    """A Whisper prompt from the intent names ("direct_debit" -> "direct debit"): measured to cut
    the word error rate on new wordings (0.25 -> 0.17 on one held-out set) for ~10 % more time."""
    names = [" ".join(re.sub(r"[_\-]+", " ", str(label)).split()) for label in labels]
    return ", ".join(name for name in names if name) + "." if any(names) else ""


def drop_repeats(text: str) -> str:
    """Remove sentences or clauses that repeat the one before ("I moved. I moved. I moved.", "tell me a
    joke, tell me a joke, tell me a joke"): greedy decoding on a short window sometimes loops until the
    token cap, and the loop's pieces may be joined by commas as well as full stops."""
    kept: list[str] = []
    for piece in re.split(r"(?<=[.!?,;])\s+", text.strip()):
        if piece and (not kept or normalise_text(piece) != normalise_text(kept[-1])):
            kept.append(piece)
    return " ".join(kept)


def window_seconds_for(samples: int, step: float = WINDOW_STEP_SECONDS, padding: float = 0.0) -> float:
    """The fitted Whisper window for a clip: its length plus `padding` seconds of silence, rounded
    up to `step`, at most 30 s."""
    seconds = samples / RATE + padding
    return float(min(LONGEST_SECONDS, max(step, math.ceil(seconds / step - 1e-9) * step)))


def load_recogniser(source: str, device: str = "cpu"):
    """(kind, parts) for a local folder or hub id; `ModelError` saying which model and what to do."""
    from intentdesk.core.models import bundled
    from intentdesk.core.models.backbone import transformers_api
    from intentdesk.core.models.hub import check_local_model, hub_error_message

    api = transformers_api()
    what = f"the speech recogniser {source!r}"
    source = bundled.resolve(source)
    local = False
    try:
        local = check_local_model(source)
        config = api.AutoConfig.from_pretrained(source)
        if config.model_type == "whisper":
            generation = api.GenerationConfig(**whisper_token_settings(source, config))
            model = api.WhisperForConditionalGeneration.from_pretrained(source, generation_config=generation)
            model = model.to(device).eval()
            return "whisper", (model, api.AutoFeatureExtractor.from_pretrained(source),
                               api.AutoTokenizer.from_pretrained(source))
        return "pipeline", api.pipeline("automatic-speech-recognition", model=source, device=device)
    except ModelError as error:
        raise ModelError(f"{what}: {error}") from error
    except Exception as error:
        raise ModelUnavailable(hub_error_message(what, error, local), WORDS_HINT) from error


def whisper_token_settings(source: str, config) -> dict:
    """The token settings of a Whisper recogniser's generation_config.json (else its config.json), checked
    (`checks.whisper_generation`): the file's own decoding settings are never used, the words part's are."""
    from transformers.utils import cached_file

    from intentdesk.core.models.model_files import read_json_object

    file = cached_file(source, "generation_config.json", _raise_exceptions_for_missing_entries=False,
                       _raise_exceptions_for_connection_errors=False)
    settings = read_json_object(Path(file), FRESH_COPY) if file else config.to_dict()
    try:
        return checks.whisper_generation(settings, config.vocab_size, config.max_target_positions)
    except checks.BadEntry as error:
        raise error.refusal(file or Path(source) / "config.json", FRESH_COPY) from error


def whisper_language(generation, language: str, source: str) -> str:
    """The language code to pass to this Whisper, or "" when none is: an English-only recogniser
    (`.en`, no language tokens) writes English whatever it is told, so "en" or no language needs nothing,
    and any other language is refused (it would come out as English). Accepts a code ("en") or a
    name ("english"); `ModelError` for one this recogniser does not know."""
    wanted = str(language or "").strip().lower()
    wanted = "" if wanted == "auto" else wanted
    known = {name[2:-2] for name in (getattr(generation, "lang_to_id", None) or {})}
    if not getattr(generation, "is_multilingual", False) or not known:
        if wanted and wanted not in ("en", "english"):
            raise ModelError(f"the speech recogniser {source!r} understands English only, not {language!r}: "
                             "choose a multilingual recogniser (e.g. openai/whisper-base) for that language")
        return ""
    if not wanted:
        return ""
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    code = TO_LANGUAGE_CODE.get(wanted, wanted)
    if code not in known:
        raise ModelError(f"the speech recogniser {source!r} does not know the language {language!r}: give a "
                         f"language code such as {', '.join(sorted(known)[:6])}")
    return code


class Transcriber:
    """Transcribes float32 16 kHz mono clips. Thread-safe (one model call at a time)."""

    def __init__(self, source: str = DEFAULT_RECOGNISER, *, device: str = "cpu", fit_window: bool = True,
                 window_step: float = WINDOW_STEP_SECONDS, window_padding: float = WINDOW_PADDING_SECONDS,
                 max_new_tokens: int = MAX_NEW_TOKENS, prompt: str = "", num_beams: int = 1,
                 language: str = DEFAULT_LANGUAGE, batch_size: int = 8,
                 no_speech_threshold: float | None = NO_SPEECH_THRESHOLD,
                 cache_dir: Path | str | None | bool = None) -> None:
        """`no_speech_threshold` None: every clip is transcribed, as words parts made before the check read them
        (so their transcripts and fingerprint stay as they were)."""
        self.source = str(source)
        self.device = device
        self.fit_window = fit_window
        self.window_step = float(window_step)
        self.window_padding = float(window_padding)
        self.max_new_tokens = int(max_new_tokens)
        self.prompt = str(prompt or "")
        self.num_beams = max(1, int(num_beams))
        self.batch_size = max(1, int(batch_size))
        self.kind, self._parts = load_recogniser(self.source, device)
        model = self._parts[0] if self.kind == "whisper" else self._parts.model
        self.longest_output = self.max_new_tokens
        self.language = ""  # the language code passed to a multilingual Whisper ("" = none passed)
        self.no_speech_threshold = None  # Whisper only: other recognisers do not say whether they heard speech
        self._suppressed = None  # Whisper's suppressed tokens, masked by `suppress.SuppressedTokens`
        self._vocabulary = None  # Whisper's last layer for greedy decoding, where faster here (`vocabulary`)
        if self.kind == "whisper":  # BadEntry: the reader of these settings names their file
            prompt_tokens = len(self._parts[2].get_prompt_ids(self.prompt)) if self.prompt else 0
            self.longest_output = min(self.max_new_tokens, checks.check_decoding(
                self.max_new_tokens, self.num_beams, prompt_tokens, model.config.max_target_positions))
            self.language = whisper_language(model.generation_config, language, self.source)
            self._suppressed = suppressed_tokens(model)
            if self.num_beams == 1:  # beams rank whole scores, not just the best token: those stay exact
                from intentdesk.core.words.vocabulary import fast_vocabulary

                self._vocabulary = fast_vocabulary(model, self._suppressed.mask if self._suppressed else None)
            self.no_speech_threshold = checks.NO_SPEECH.check("recogniser.no_speech_threshold", no_speech_threshold)
        settings = (f"{self.kind}|v2|fit={fit_window}|step={window_step}|pad={window_padding}|tokens={max_new_tokens}"
                    f"|beams={self.num_beams}|prompt={self.prompt}")
        if self.language:  # (English-only recognisers keep their earlier fingerprint: their cache stays valid)
            settings += f"|language={self.language}"
        if self.no_speech_threshold is not None:
            settings += f"|no_speech={self.no_speech_threshold:g}"
        self.fingerprint = weights_fingerprint(model, settings)
        if cache_dir is None or cache_dir is True:
            cache_dir = default_cache_dir()
        self.cache = KeyValueCache(Path(cache_dir) / "transcripts.sqlite" if cache_dir else None)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public calls
    def transcribe(self, waves: Sequence[np.ndarray], progress: Progress | None = None) -> list[str]:
        """One transcript per clip (raw recogniser text; see `normalise_text`), cached."""
        keys = [f"{self.fingerprint}:{wave_key(w)}" for w in waves]
        found = self.cache.get_many(keys)
        todo = [i for i, key in enumerate(keys) if key not in found]
        todo = list({keys[i]: i for i in todo}.values())  # the same sound twice is recognised once
        done = len(waves) - len(todo)
        if progress:
            progress(done, len(waves))
        for batch in self._batches(todo, waves):
            texts = self._recognise([np.asarray(waves[i], dtype=np.float32) for i in batch])
            self.cache.put_many((keys[i], text.encode()) for i, text in zip(batch, texts))
            found.update((keys[i], text.encode()) for i, text in zip(batch, texts))
            done += len(batch)
            if progress:
                progress(min(done, len(waves)), len(waves))
        return [found[key].decode() for key in keys]

    # ------------------------------------------------------------------ recognition
    def window_for(self, samples: int) -> float:
        if self.kind != "whisper" or not self.fit_window:
            return LONGEST_SECONDS
        return window_seconds_for(samples, self.window_step, self.window_padding)

    def _batches(self, indices: list[int], waves: Sequence[np.ndarray]) -> list[list[int]]:
        """Batches of clips that share a window (Whisper) or have similar length (others)."""
        ordered = sorted(indices, key=lambda i: len(waves[i]))
        batches: list[list[int]] = []
        for i in ordered:
            window = self.window_for(len(waves[i]))
            last = batches[-1] if batches else None
            if last and len(last) < self.batch_size and self.window_for(len(waves[last[0]])) == window:
                last.append(i)
            else:
                batches.append([i])
        return batches

    def _recognise(self, waves: list[np.ndarray]) -> list[str]:
        import torch

        with self._lock, torch.inference_mode():
            if self.kind == "whisper":
                return self._whisper(waves)
            outputs = self._parts([{"raw": w, "sampling_rate": RATE} for w in waves], batch_size=len(waves))
            return [str(out["text"]).strip() for out in outputs]

    def _whisper(self, waves: list[np.ndarray]) -> list[str]:
        model, features, _ = self._parts
        longest = max(len(w) for w in waves)
        seconds = self.window_for(longest)
        samples = int(seconds * RATE)
        inputs = features([w[:samples] for w in waves], sampling_rate=RATE, return_tensors="pt",
                          padding="max_length", max_length=samples, truncation=True)
        mel = inputs.input_features.to(self.device)
        tokens = min(self.longest_output, math.ceil(TOKENS_PER_SECOND * longest / RATE) + 4)
        texts = [""] * len(waves)  # a clip with no speech in it stays "": it is not decoded at all
        with whisper_window(model, mel.shape[-1] // 2):
            heard = model.get_encoder()(mel).last_hidden_state  # once, for the no-speech check and the transcripts
            spoken = list(range(len(waves))) if self.no_speech_threshold is None else \
                [i for i, chance in enumerate(self.no_speech(heard)) if chance <= self.no_speech_threshold]
            for i, text in zip(spoken, self._generate(heard[spoken], tokens, self.prompt) if spoken else []):
                texts[i] = text
            empty = [i for i in spoken if not texts[i]]
            if self.prompt and empty:  # a prompt sometimes makes Whisper end at once (~0.2 % of clips)
                for i, text in zip(empty, self._generate(heard[empty], tokens, "")):
                    texts[i] = text
        return texts

    def no_speech(self, heard) -> list[float]:
        """Each clip's probability of holding no speech: Whisper's no-speech token (the one before
        `no_timestamps_token_id`, as transformers' `WhisperNoSpeechDetection` takes it) right after the start
        of transcript token. `heard`: the encoder's output."""
        import torch

        model = self._parts[0]
        generation = model.generation_config
        ids = torch.full((len(heard), 1), generation.decoder_start_token_id, device=self.device)
        logits = model(encoder_outputs=(heard,), decoder_input_ids=ids).logits[:, -1]
        return logits.float().softmax(-1)[:, generation.no_timestamps_token_id - 1].tolist()

    def _generate(self, heard, tokens: int, prompt: str) -> list[str]:
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        from intentdesk.core.words.vocabulary import vocabulary_swapped

        model, _, tokenizer = self._parts
        extra = {}
        if prompt:  # earlier-context text: biases spelling towards the intents' vocabulary
            extra["prompt_ids"] = torch.tensor(tokenizer.get_prompt_ids(prompt), device=self.device)
        if self.language:  # else a multilingual Whisper guesses a language per clip, running its encoder twice
            extra.update(language=self.language, task="transcribe")
        if self._suppressed is not None:  # the same tokens, masked without transformers' per-step search
            from transformers import LogitsProcessorList

            extra.update(suppress_tokens=None, logits_processor=LogitsProcessorList([self._suppressed]))
        with vocabulary_swapped(model, self._vocabulary):
            ids = model.generate(encoder_outputs=BaseModelOutput(last_hidden_state=heard), max_new_tokens=tokens,
                                 do_sample=False, num_beams=self.num_beams, **extra)
        return [drop_repeats(text) for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]


def suppressed_tokens(model):
    """The recogniser's `suppress_tokens` as a `SuppressedTokens` with its mask made once, or None when it
    suppresses none (`suppress` says why)."""
    tokens = getattr(model.generation_config, "suppress_tokens", None)
    if not tokens:
        return None
    from intentdesk.core.words.suppress import SuppressedTokens

    return SuppressedTokens(tokens, model.config.vocab_size)


@contextlib.contextmanager
def whisper_window(model, positions: int):
    """Run a Whisper model with an encoder window of `positions` (50 per second) for the block.

    The position table is sliced (a view, no copy) and `max_source_positions` set on the configs
    the encoder and `generate` read; everything is restored afterwards.
    """
    import torch

    encoder = model.get_encoder()
    table = encoder.embed_positions
    if positions >= table.num_embeddings:
        yield
        return
    configs = list({id(c): c for c in (model.config, encoder.config)}.values())
    saved = [c.max_source_positions for c in configs]
    short = torch.nn.Embedding(positions, table.embedding_dim, _weight=table.weight[:positions], _freeze=True)
    encoder.embed_positions = short
    for config in configs:
        config.max_source_positions = positions
    try:
        yield
    finally:
        encoder.embed_positions = table
        for config, value in zip(configs, saved):
            config.max_source_positions = value
