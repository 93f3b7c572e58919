"""What a words part's files may say: every value checked once, when it is read (a model folder is untrusted).

People download model folders and pass them on, and a words part is plain files anyone can edit:
`words_config.json`, `head.safetensors` and the recogniser's `generation_config.json`. Before anything is
computed or allocated from them, each value the words part uses is checked here: its type, a finite
number in a sensible range, and every size against a bound (`MAX_*`). Nothing is clamped. A value that
fails raises `BadEntry` naming the entry; the reader adds the file and what to do (`BadEntry.refusal`),
and the classifier then ranks by sound only and says why (`inference.words_part`).

Decoding is IntentDesk's own: beams and lengths come from words_config.json (bounded here), never
from the recogniser's generation_config.json, of which only the token settings Whisper needs are kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intentdesk.core.errors import ModelError, first_line

MAX_HEAD_BYTES = 2 * 2 ** 30  # head.safetensors: 500k training texts of 1024 numbers
MAX_LABELS = 10_000
MAX_NAME_CHARS = 200  # a label
MAX_SOURCE_CHARS = 4096  # a hub id or a folder
MAX_FINGERPRINT_CHARS = 256
MAX_PROMPT_CHARS = 4000  # Whisper reads at most 448 tokens in all
MAX_BEAMS = 8
MAX_NEW_TOKENS = 448  # Whisper's max_target_positions: no clip needs more
MAX_DIM = 8192  # numbers per sentence embedding
MAX_BANK_ROWS = 500_000  # training texts (or background sentences) the head keeps
MAX_HEAD_VALUE = 1e4  # |weight| and |bias| of a logistic regression on unit vectors; far larger overflows
UNIT = 1.001  # the bank's rows are unit vectors (rounding allowed)
MAX_FORCED_TOKENS = 8  # Whisper forces 3: language, task, no timestamps
MAX_LANGUAGES = 1000
MIN_ROOM = 8  # tokens a recogniser must have left to write after its prompt and start tokens
START_TOKENS = 4  # start of transcript, language, task, no timestamps


class BadEntry(ModelError):
    """An entry of a model file that is not sensible: which entry and why (the reader names the file)."""

    def __init__(self, entry: str, problem: str) -> None:
        self.entry, self.problem = entry, problem
        super().__init__(f"{entry!r} {problem}")

    def refusal(self, file: Path | str, advice: str) -> ModelError:
        """The user's message: the file, the entry and the problem, and what to do."""
        return ModelError(f"{file}: {self}; {advice}")


def shown(value: object) -> str:
    """A value as a message shows it: short, one line."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items" if value else "an empty list"
    if isinstance(value, Mapping):
        return "an object"
    text = json.dumps(value) if isinstance(value, (str, bool)) or value is None else repr(value)
    return first_line(text, 40)


@dataclass(frozen=True)
class Number:
    """A number from `low` to `high` (a whole one when `whole`; null allowed when `nullable`)."""

    low: float
    high: float
    whole: bool = False
    nullable: bool = False

    def expected(self) -> str:
        kind, low, high = ("a whole number", int(self.low), int(self.high)) if self.whole else \
            ("a number", f"{self.low:g}", f"{self.high:g}")
        return f"{'null or ' if self.nullable else ''}{kind} from {low} to {high}"

    def check(self, entry: str, value: object):
        if value is None and self.nullable:
            return None
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (isinstance(value, float) and not (math.isfinite(value) and (value.is_integer() or
                                                                                      not self.whole))) \
                or not self.low <= value <= self.high:
            raise BadEntry(entry, f"is {shown(value)}, but it must be {self.expected()}")
        return int(value) if self.whole else float(value)


@dataclass(frozen=True)
class Text:
    """A text of at most `longest` characters (empty allowed when `empty`, null when `nullable`)."""

    longest: int
    empty: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()

    def check(self, entry: str, value: object):
        if value is None and self.nullable:
            return None
        if self.choices and value not in self.choices:
            raise BadEntry(entry, f"is {shown(value)}, but it must be one of {', '.join(map(repr, self.choices))}")
        if not isinstance(value, str) or len(value) > self.longest or not (value or self.empty):
            what = f"a text of {len(value)} characters" if isinstance(value, str) and len(value) > 40 else shown(value)
            kind = "text" if self.empty else "non-empty text"
            raise BadEntry(entry, f"is {what}, but it must be a {kind} of at most {self.longest} characters")
        return value


class Flag:
    """true or false."""

    def check(self, entry: str, value: object):
        if isinstance(value, bool):
            return value
        raise BadEntry(entry, f"is {shown(value)}, but it must be true or false")


TEMPERATURE = Number(1e-3, 1e3)
NO_SPEECH = Number(0.0, 1.0, nullable=True)  # a probability (null: no no-speech check)
COSINE = Number(-1.001, 1.001)  # a similarity threshold
RECOGNISER = {"source": Text(MAX_SOURCE_CHARS), "fingerprint": Text(MAX_FINGERPRINT_CHARS, nullable=True),
              "fit_window": Flag(), "window_step": Number(0.1, 30.0), "window_padding": Number(0.0, 30.0),
              "max_new_tokens": Number(1, MAX_NEW_TOKENS, whole=True), "prompt": Text(MAX_PROMPT_CHARS, empty=True),
              "num_beams": Number(1, MAX_BEAMS, whole=True), "language": Text(32, empty=True),
              "no_speech_threshold": NO_SPEECH}
TEXT_ENCODER = {"source": Text(MAX_SOURCE_CHARS), "fingerprint": Text(MAX_FINGERPRINT_CHARS, nullable=True),
                "dim": Number(1, MAX_DIM, whole=True)}
FUSION = {"words_weight": Number(0.0, 1.0), "t_sound": TEMPERATURE, "t_words": TEMPERATURE, "min_similarity": COSINE,
          "min_top": Number(0.0, 1.0), "min_margin": Number(2 * COSINE.low, 2 * COSINE.high, nullable=True)}
SECTIONS = {"recogniser": RECOGNISER, "text_encoder": TEXT_ENCODER, "fusion": FUSION}
REQUIRED = {"recogniser": ("source",), "text_encoder": ("source",), "fusion": ()}
VERSION = Number(0, 10 ** 6, whole=True)


def check_section(name: str, section: object, spec: dict, required: tuple[str, ...] = ()) -> dict:
    """`section` with each entry of `spec` that it has checked (an entry not in `spec` is kept as it is)."""
    if not isinstance(section, dict):
        raise BadEntry(name, f"is {shown(section)}, but it must be an object")
    missing = next((key for key in required if key not in section), None)
    if missing is not None:
        raise BadEntry(f"{name}.{missing}", "is missing")
    return {**section, **{key: rule.check(f"{name}.{key}", section[key]) for key, rule in spec.items()
                          if key in section}}


def check_labels(labels: object) -> list[str]:
    if not isinstance(labels, list) or not 1 <= len(labels) <= MAX_LABELS:
        raise BadEntry("labels", f"is {shown(labels)}, but it must be a list of 1 to {MAX_LABELS} intent names")
    names = [Text(MAX_NAME_CHARS).check(f"labels[{i}]", label) for i, label in enumerate(labels)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BadEntry("labels", f"lists {name!r} twice")
        seen.add(name)
    return names


def check_config(config: dict) -> dict:
    """`config` (words_config.json) with every entry the words part uses checked: the labels, the recogniser,
    the text encoder and the fusion settings (each a `SECTIONS` spec), and the head's notes."""
    for key in ("labels", *SECTIONS):
        if key not in config:
            raise BadEntry(key, "is missing, so the words part is incomplete")
    head = config.get("head")
    if head is not None and not isinstance(head, dict):
        raise BadEntry("head", f"is {shown(head)}, but it must be an object")
    return {**config, "labels": check_labels(config["labels"]),
            **{name: check_section(name, config[name], spec, REQUIRED[name]) for name, spec in SECTIONS.items()}}


# ------------------------------------------------------------------ head.safetensors
def check_head(labels: int, tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The head's tensors as float32 (bank_labels int64), checked: dtypes, shapes that fit `labels` labels,
    bounded sizes, finite values, weights of a sensible size and unit-length bank rows."""
    names = ("weight", "bias", "bank", "bank_labels") + (("background",) if "background" in tensors else ())
    missing = next((name for name in names if name not in tensors), None)
    if missing is not None:
        raise BadEntry(missing, "is missing from the head (a tensor it needs)")
    for name in names:
        integer = name == "bank_labels"
        if not (np.issubdtype(tensors[name].dtype, np.integer) if integer else
                np.issubdtype(tensors[name].dtype, np.floating)):
            raise BadEntry(name, f"holds {tensors[name].dtype} values, but it must hold "
                                 f"{'whole numbers' if integer else 'floating-point numbers'}")
    arrays = {name: np.asarray(tensors[name], np.int64 if name == "bank_labels" else np.float32) for name in names}
    check_head_shapes(labels, arrays)
    for name in names:
        if name != "bank_labels" and not np.isfinite(arrays[name]).all():
            raise BadEntry(name, "holds values that are not numbers (NaN or infinite)")
    for name in ("weight", "bias"):
        if arrays[name].size and np.abs(arrays[name]).max() > MAX_HEAD_VALUE:
            raise BadEntry(name, f"holds values beyond ±{MAX_HEAD_VALUE:g} (the head's scores would overflow)")
    for name in ("bank", "background"):
        if name in arrays and len(arrays[name]) and np.linalg.norm(arrays[name], axis=1).max() > UNIT:
            raise BadEntry(name, "holds rows longer than 1 (it holds unit-length sentence embeddings)")
    if len(arrays["bank_labels"]) and (arrays["bank_labels"].min() < 0 or arrays["bank_labels"].max() >= labels):
        raise BadEntry("bank_labels", f"holds label numbers outside 0 to {labels - 1}")
    return arrays


def check_head_shapes(labels: int, arrays: dict[str, np.ndarray]) -> None:
    """weight labels x D, bias labels, bank (and background) N x D of at most `MAX_BANK_ROWS`, bank_labels N."""
    weight = arrays["weight"]
    if weight.ndim != 2 or weight.shape[0] != labels or not 1 <= weight.shape[1] <= MAX_DIM:
        raise BadEntry("weight", f"is {shape(weight)}, a shape that does not fit {labels} labels (it must be "
                                 f"{labels} x D, D from 1 to {MAX_DIM})")
    dim = weight.shape[1]
    for name in ("bank", "background"):
        if name in arrays and (arrays[name].ndim != 2 or arrays[name].shape[1] != dim):
            raise BadEntry(name, f"is {shape(arrays[name])}, a shape that does not fit the head's {dim}-number "
                                 f"embeddings (it must be N x {dim})")
        if name in arrays and len(arrays[name]) > MAX_BANK_ROWS:
            raise BadEntry(name, f"holds {len(arrays[name])} rows, more than the {MAX_BANK_ROWS} a head may keep")
    for name, wanted in (("bias", labels), ("bank_labels", len(arrays["bank"]))):
        if arrays[name].shape != (wanted,):
            raise BadEntry(name, f"is {shape(arrays[name])}, a shape that does not fit the head (it must be {wanted} "
                                 "numbers)")


def shape(array: np.ndarray) -> str:
    return " x ".join(map(str, array.shape)) or "a single number"


# ------------------------------------------------------------------ the recogniser
@dataclass(frozen=True)
class Tokens:
    """A list of at most `longest` token numbers (or a single one, when `single`)."""

    token: Number
    longest: int
    single: bool = False

    def check(self, entry: str, value: object):
        if self.single and not isinstance(value, list):
            return self.token.check(entry, value)
        if not isinstance(value, list) or len(value) > self.longest:
            raise BadEntry(entry, f"is {shown(value)}, but it must be a list of at most {self.longest} token numbers")
        return [self.token.check(f"{entry}[{i}]", item) for i, item in enumerate(value)]


@dataclass(frozen=True)
class ForcedTokens:
    """[[position, token], ...]: the tokens Whisper starts each transcript with (a null token: none chosen)."""

    token: Number

    def check(self, entry: str, value: object):
        if not isinstance(value, list) or len(value) > MAX_FORCED_TOKENS:
            raise BadEntry(entry, f"is {shown(value)}, but it must be a list of at most {MAX_FORCED_TOKENS} "
                                  "[position, token] pairs")
        position = Number(1, MAX_FORCED_TOKENS, whole=True)
        pairs = []
        for i, pair in enumerate(value):
            if not isinstance(pair, list) or len(pair) != 2:
                raise BadEntry(f"{entry}[{i}]", f"is {shown(pair)}, but it must be a [position, token] pair")
            pairs.append([position.check(f"{entry}[{i}][0]", pair[0]),
                          None if pair[1] is None else self.token.check(f"{entry}[{i}][1]", pair[1])])
        return pairs


@dataclass(frozen=True)
class TokenNames:
    """{name: token}: Whisper's languages or tasks."""

    token: Number

    def check(self, entry: str, value: object):
        if not isinstance(value, dict) or len(value) > MAX_LANGUAGES:
            raise BadEntry(entry, f"is {shown(value)}, but it must map at most {MAX_LANGUAGES} names to tokens")
        name = Text(64)
        return {name.check(f"{entry} key", key): self.token.check(f"{entry}[{key!r}]", item)
                for key, item in value.items()}


WHISPER_TOKENS = ("decoder_start_token_id", "bos_token_id", "pad_token_id", "no_timestamps_token_id",
                  "prev_sot_token_id")
ANY_TOKEN = Number(0, 2 ** 31, whole=True)  # a token to suppress beyond the vocabulary is simply never written


def whisper_generation(settings: dict, vocab_size: object, positions: object) -> dict:
    """The token settings Whisper's `generate` needs, from a recogniser's generation_config.json (or its
    config.json when it has none), checked against its vocabulary; nothing else is taken, so a file's
    beams, lengths or sampling never count (the words part's own, bounded settings do)."""
    vocab = Number(1, 10 ** 7, whole=True).check("vocab_size", vocab_size)
    Number(MIN_ROOM + START_TOKENS, 10 ** 6, whole=True).check("max_target_positions", positions)
    token = Number(0, vocab - 1, whole=True)
    rules = {**dict.fromkeys(WHISPER_TOKENS, token), "eos_token_id": Tokens(token, MAX_FORCED_TOKENS, single=True),
             "suppress_tokens": Tokens(ANY_TOKEN, vocab), "begin_suppress_tokens": Tokens(ANY_TOKEN, vocab),
             "forced_decoder_ids": ForcedTokens(token), "lang_to_id": TokenNames(token),
             "task_to_id": TokenNames(token), "is_multilingual": Flag(), "return_timestamps": Flag(),
             "language": Text(32), "task": Text(16, choices=("transcribe", "translate")),
             "max_initial_timestamp_index": Number(0, 1500, whole=True)}
    return {key: rule.check(key, settings[key]) for key, rule in rules.items() if settings.get(key) is not None}


def check_decoding(max_new_tokens: int, num_beams: int, prompt_tokens: int, positions: int) -> int:
    """How many tokens a transcript may have beside its prompt (`positions` is the recogniser's
    `max_target_positions`); `BadEntry` for settings it cannot decode with."""
    Number(1, MAX_BEAMS, whole=True).check("recogniser.num_beams", num_beams)
    if not 1 <= max_new_tokens <= min(MAX_NEW_TOKENS, positions):
        raise BadEntry("recogniser.max_new_tokens", f"is {max_new_tokens}, but this recogniser writes at most "
                                                    f"{min(MAX_NEW_TOKENS, positions)} tokens")
    room = positions - prompt_tokens - START_TOKENS
    if room < MIN_ROOM:
        raise BadEntry("recogniser.prompt", f"is {prompt_tokens} tokens long, but this recogniser reads at most "
                                            f"{positions - START_TOKENS - MIN_ROOM} (fewer or shorter intent names "
                                            "make a shorter prompt)")
    return room
