"""Training settings, defined once: each field carries its plain-words label, help, bounds and CLI flag.

The CLI (`intentdesk train`) and the Train tab's form are both generated from `SETTING_SPECS`, and
`TrainSettings.resolved` checks values against the same bounds, so the three can never disagree.
No torch import here: the GUI builds its form before torch is loaded.
"""

from __future__ import annotations

import difflib
import json
import math
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from intentdesk.core.errors import TrainingError
from intentdesk.core.models.hub import DEFAULT_BASE_MODEL, DEFAULT_RECOGNISER, DEFAULT_TEXT_ENCODER
from intentdesk.core.words.asr import DEFAULT_LANGUAGE

MODE_DEFAULTS = {
    # Learning rates are for the backbone; the fresh head learns at head_learning_rate.
    # Full mode starts from the quick-mode warm start, so a small backbone rate and few epochs
    # suffice; 5e-5 x 10 epochs scored 0.939 on voices held out of training, 2e-5 x 6 scored 0.968.
    "full": {"epochs": 6, "learning_rate": 2e-5, "batch_size": 8},
    # Quick mode trains the head on cached pooled features: an epoch costs milliseconds, so many
    # passes are free (30 x 32 scored 0.980 on unseen voices, dev corpus, 4 folds; 20-60 passes,
    # batches of 16-64 and head rates 1e-3-3e-3 all scored 0.979-0.980).
    "quick": {"epochs": 30, "learning_rate": 2e-4, "batch_size": 32},
}

@dataclass(frozen=True)
class SettingSpec:
    """How one training setting is shown, explained and bounded (the field's `metadata`)."""

    label: str  # plain words for the form, e.g. "Gentle start" (the technical term goes in `help`)
    help: str  # a sentence a non-programmer can act on, with the technical term; the tooltip and the CLI help
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    decimals: int = 0
    suffix: str = ""
    choices: tuple[str, ...] = ()
    advanced: bool = False  # shown under "Advanced settings" in the form
    cli: bool = True  # has an `intentdesk train --flag`
    mode_default: bool = False  # None means "the mode's default" (MODE_DEFAULTS)
    percent: bool = False  # a share (0.2) the form shows as a percentage (20 %); the CLI takes the share

    def check(self, name: str, value: Any) -> None:
        """Raise TrainingError when `value` is outside this setting's bounds."""
        if value is None or isinstance(value, (bool, str, tuple)):
            if self.choices and value not in self.choices:
                raise TrainingError(f"{self.label}: {value!r} is not one of {', '.join(self.choices)}")
            return
        if not math.isfinite(float(value)):
            raise TrainingError(f"{self.label}: {value} is not a number")
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise TrainingError(f"{self.label} must be between {low:g} and {high:g} (got {value:g})")


def _setting(default: Any, spec: SettingSpec) -> Any:
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


@dataclass
class TrainSettings:
    """Everything that defines a run; saved next to the model as run_settings.json.

    Defaults learn on a few hundred clips: whole clips up to 8 s (never the tutorial's 1 s),
    enough optimizer steps (epochs x clips / batch), warmup, a faster-learning head.
    """

    base_model: str = _setting(DEFAULT_BASE_MODEL, SettingSpec(
        "Base model", "A Hugging Face hub id (needs internet the first time) or a local model folder "
        "(Wav2Vec2, HuBERT, WavLM, Whisper, AST...). The model that already knows speech; training adapts it.",
        cli=False))
    mode: str = _setting("quick", SettingSpec(
        "Mode", "quick: the base model listens once to every clip and only the model's output layer learns, "
        "from the clip's averaged sound features. The first time is the long part: for 1,120 clips of about "
        "3 s on 2 CPU cores, 11 minutes with facebook/wav2vec2-base and 1.5 minutes with Whisper tiny.en; "
        "training the same clips again took 6-7 seconds on a quiet computer (minutes while it was busy). "
        "full: then also adapts the whole model (fine-tuning: 7 minutes more with Whisper tiny.en, far longer "
        "with larger models). On voices the model had not heard, Quick scored 0.979 and Full 0.994 in our "
        "tests (BENCHMARKS.md, section 9).",
        choices=tuple(MODE_DEFAULTS), cli=False))
    epochs: int | None = _setting(None, SettingSpec(
        "Passes over the data (epochs)", "How many times training goes through every training clip. "
        "More passes learn more but take longer; the best pass is kept.", 1, 500, mode_default=True))
    learning_rate: float | None = _setting(None, SettingSpec(
        "Learning speed (learning rate)", "How big each learning step is for the pretrained model "
        "(Full mode, and Quick mode with top layers trained). Too big forgets what it knew; too small "
        "learns nothing.", 1e-6, 0.1, 1e-5, 6, mode_default=True))
    head_learning_rate: float = _setting(1e-3, SettingSpec(
        "Learning speed of the new output layer", "The layer that maps the model's features to your labels "
        "starts from scratch, so it learns faster than the rest.", 1e-5, 0.1, 1e-4, 5, advanced=True))
    batch_size: int | None = _setting(None, SettingSpec(
        "Clips per step (batch size)", "How many clips are used for each learning step. "
        "Larger is smoother but needs more memory.", 1, 128, mode_default=True))
    max_seconds: float = _setting(8.0, SettingSpec(
        "Longest clip used", "Clips are cut to this length (seconds). Longer keeps more of each clip "
        "but trains more slowly. A Whisper-based model listens through a window only as long as the longest "
        "clip (whole seconds, at most this), so Classify may say it used fewer seconds of a long file.", 0.5, 30.0,
        0.5, 1, suffix=" s"))
    eval_share: float = _setting(0.2, SettingSpec(
        "Clips kept aside for testing", "This share of each label's clips is not trained on, only used "
        "to measure how well the model does on clips it has not heard (the eval split).", 0.05, 0.5, 0.05, 2,
        percent=True))
    seed: int = _setting(0, SettingSpec(
        "Random seed", "Change it to get a different (equally fair) split and start; keep it to repeat a run "
        "exactly.", 0, 1_000_000, advanced=True))
    warmup_ratio: float = _setting(0.1, SettingSpec(
        "Gentle start", "The share of steps at the start during which the learning speed rises from zero, so "
        "the first random steps do not damage the pretrained model (warmup share).", 0.0, 0.5, 0.05, 2,
        advanced=True, percent=True))
    weight_decay: float = _setting(0.01, SettingSpec(
        "Guard against memorising the clips", "A small pull of the model's numbers towards zero that keeps "
        "it from memorising the training clips (weight decay).", 0.0, 0.5, 0.01, 3, advanced=True))
    label_smoothing: float = _setting(0.1, SettingSpec(
        "Less overconfident scores", "Trains the model to be this much less than 100 % sure, which makes "
        "its scores more honest on new voices (label smoothing).", 0.0, 0.3, 0.05, 2, advanced=True,
        percent=True))
    quick_layers: int = _setting(0, SettingSpec(
        "Quick: top layers trained", "0 trains only the output layer, on the model's averaged sound "
        "features (seconds). 1-4 also train that many of the model's top layers: minutes instead of seconds, "
        "and with enough clips better on voices it has not heard. Measured with Whisper tiny.en on 2 cores "
        "(BENCHMARKS.md 13): with 1,120 clips, 0 took 1 minute (13 s again) and got 94-95 % of new voices "
        "right, 1 took 8 minutes and got 98-99 % right (with 8 passes instead of 30: 3 minutes, 97-98 %); "
        "with 280 clips, 0 got 81 % and 1 got 84 % (with 8 passes only 51 %: keep the passes when you have "
        "few clips).", 0, 4, advanced=True))
    learn_from_all: bool = _setting(True, SettingSpec(
        "Quick: learn from all clips at the end", "After the test clips have shown how well the training "
        "works, Quick mode trains the output layer once more the same way on every clip, test clips "
        "included, and saves that (the scores shown are still the honest ones from the first "
        "training). Only when Quick trains the output layer alone (top layers 0). On voices it had not "
        "heard, accuracy went from 0.96 to 0.98 in our tests.",
        advanced=True))
    warm_start_epochs: int = _setting(30, SettingSpec(
        "Full: quick passes first", "Full mode first trains the output layer this many passes (as Quick "
        "mode does), then adapts the whole model. 0 skips this warm start.", 0, 100, advanced=True))
    speed_perturbation: tuple[float, ...] = _setting((0.9, 1.1), SettingSpec(
        "Slower and faster copies", "Training clips are also played at these speeds (0.9 is 10 % slower, 1.1 "
        "is 10 % faster), so the model hears more kinds of voices (speed perturbation): Quick mode plays each "
        "clip once more at one of them and learns the other direction from that copy, Full mode plays each "
        "clip at one of them (or as it is) each pass. Empty: none.", cli=False, advanced=True))
    device: str = _setting("auto", SettingSpec(
        "Where to compute", "auto uses the graphics card (GPU) when there is one, else the processor (CPU); "
        "cuda is an NVIDIA graphics card, mps an Apple one.", choices=("auto", "cpu", "cuda", "mps"),
        advanced=True))
    bf16: bool = _setting(True, SettingSpec(
        "Faster arithmetic where the computer has it", "Uses shorter numbers (16-bit bfloat16, \"bf16\") where they "
        "are faster: for learning on processors with AMX and on graphics cards, and for Quick mode's first "
        "listen to every clip wherever a test shows it is faster and gives the same results.",
        advanced=True))

    words: bool | None = _setting(None, SettingSpec(
        "Also learn from the words", "Transcribes every clip with a speech recogniser and learns from what "
        "was said (and from the example phrases typed for each label), then combines that with the sound. "
        "Helps most with new ways of saying things; training and classifying take longer. On by default when "
        "the speech recogniser and the sentence encoder are on this computer (downloaded, bundled with the app, "
        "or a folder)."))
    asr: str = _setting(DEFAULT_RECOGNISER, SettingSpec(
        "Words: speech recogniser", "The model that writes down what each clip says: a Hugging Face hub id "
        "(needs internet the first time) or a local speech recognition folder. The default, the small English "
        "Whisper tiny.en, is the fast one: measured on 2-core computers it adds a quarter to a third of a second "
        "to each clip classified; Whisper base (openai/whisper-base.en) got a third fewer words wrong (0.16 against "
        "0.25) but took 1.6 times as long, so choose it when being right matters more than speed.",
        advanced=True))
    language: str = _setting(DEFAULT_LANGUAGE, SettingSpec(
        "Words: language spoken", "The language the clips are in, told to the speech recogniser: a code such as "
        "en, de, fr (or its name, german). English-only recognisers (names ending in .en) take en only; for "
        "other languages choose a multilingual one such as openai/whisper-base. auto: a multilingual "
        "recogniser guesses per clip (slower, and it sometimes guesses wrong).", advanced=True))
    text_encoder: str = _setting(DEFAULT_TEXT_ENCODER, SettingSpec(
        "Words: sentence encoder", "The model that turns sentences into numbers the words part learns from: "
        "a Hugging Face hub id (needs internet the first time) or a local folder.", advanced=True))

    @property
    def final_pass_on_all_clips(self) -> bool:
        """Whether quick mode ends by training its head again on every clip (see `learn_from_all`):
        only the pooled head (`quick_layers` 0) does."""
        return self.mode == "quick" and self.quick_layers == 0 and self.learn_from_all

    def resolved(self) -> TrainSettings:
        """A copy with every mode-dependent default filled in, and every value checked against its bounds."""
        if self.mode not in MODE_DEFAULTS:
            raise TrainingError(f"unknown mode {self.mode!r}: use full or quick")
        copy = TrainSettings(**asdict(self))
        for name in ("asr", "text_encoder", "language"):
            if not str(getattr(copy, name) or "").strip():
                setattr(copy, name, default_of(name))
        if copy.words is None:
            copy.words = words_unavailable(copy) is None
        for name, default in MODE_DEFAULTS[self.mode].items():
            if getattr(copy, name) is None:
                setattr(copy, name, default)
        for spec_field in fields(copy):
            spec_of(spec_field.name).check(spec_field.name, getattr(copy, spec_field.name))
        return copy


def hearings_per_training_clip(speeds: tuple[float, ...], quick_layers: int) -> int:
    """How often the feature pass (Quick mode, Full mode's warm start) hears each training clip: once
    as it is, then once at one of the other `speeds` for the pooled head (`quick_layers` 0, which
    learns the opposite direction from that copy: `pooled.with_spread_copies`), or once at each of
    them for the top layers."""
    others = sum(speed != 1.0 for speed in speeds)
    return 1 + (min(others, 1) if quick_layers == 0 else others)


def words_unavailable(settings: TrainSettings) -> str | None:
    """Why learning from the words is off by default for `settings`: the first of the speech recogniser
    and the sentence encoder that cannot be used without the internet, in a sentence; None when both can.
    Reads files only (the Hugging Face cache, bundled models, folders): fast enough for the GUI thread."""
    from intentdesk.core.models.catalogue import RECOGNISER, TEXT_ENCODER, status_of

    for role in (RECOGNISER, TEXT_ENCODER):
        source = str(getattr(settings, role.key) or "").strip() or role.default
        status = status_of(role, source)
        if not status.ready:
            return f"the {role.noun} {source} is not on this computer ({status.text})"
    return None


SETTINGS_FILE_BYTES = 1 << 20  # a settings file is a few hundred bytes; anything larger is not one


def settings_from_file(path: Path) -> dict[str, Any]:
    """The settings a JSON file gives (`intentdesk train --settings FILE`; a model's run_settings.json
    repeats its run): each key a `TrainSettings` field (a flag's name, dashes or underscores, is taken
    too), each value of that field's type and within its bounds. `TrainingError` naming the file and the
    key for anything else, so a typo never trains with a default the person did not choose."""
    from intentdesk.core.json_files import JsonProblem, read_json

    try:
        values = read_json(path, SETTINGS_FILE_BYTES, finite=True)
    except JsonProblem as error:
        raise TrainingError(f"{path}: {error}; give a JSON object of settings, as a model's run_settings.json") \
            from error
    if not isinstance(values, dict):
        raise TrainingError(f"{path}: not a JSON object of settings (it holds a {type(values).__name__}); "
                            'write {"epochs": 20, ...}, as a model\'s run_settings.json')
    return {name: _file_value(path, name, value) for name, value in
            ((_setting_name(path, key), value) for key, value in values.items())}


def _setting_name(path: Path, key: str) -> str:
    name = key.strip().removeprefix("--").replace("-", "_")
    if name not in SETTING_SPECS:
        close = difflib.get_close_matches(name, SETTING_SPECS, 1)
        hint = f"did you mean {close[0]!r}?" if close else f"the settings are {', '.join(SETTING_SPECS)}"
        raise TrainingError(f"{path}: unknown setting {key!r}; {hint}")
    return name


def _file_value(path: Path, name: str, value: Any) -> Any:
    """`value` as field `name` takes it, or `TrainingError` saying what the field takes."""
    kind = field_type(name)
    if value is None and default_of(name) is None:  # an optional setting left to its default
        return None
    numbers = (int, float) if kind is float else (kind,)
    if kind is tuple and isinstance(value, list) and all(
            isinstance(item, (int, float)) and not isinstance(item, bool) for item in value):
        value = tuple(float(item) for item in value)
    elif not isinstance(value, numbers) or (isinstance(value, bool) and kind is not bool):
        wanted = {bool: "true or false", int: "a whole number", float: "a number", str: "a text",
                  tuple: "a list of numbers"}[kind]
        raise TrainingError(f"{path}: {name!r} must be {wanted} (got {json.dumps(value)[:60]})")
    try:
        spec_of(name).check(name, value)
    except TrainingError as error:
        raise TrainingError(f"{path}: {name!r}: {error}") from error
    return value


def field_type(name: str) -> type:
    """A `TrainSettings` field's type without its `| None`: int, float, bool, str or tuple (the CLI's flags,
    the form's widgets and a settings file's values are made and checked by it)."""
    hint = typing.get_type_hints(TrainSettings)[name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return typing.get_origin(hint) or hint


def spec_of(name: str) -> SettingSpec:
    """The spec of one `TrainSettings` field."""
    return SETTING_SPECS[name]


def default_of(name: str) -> Any:
    """A field's default value (the mode's default for fields that depend on the mode)."""
    spec_field = next(f for f in fields(TrainSettings) if f.name == name)
    if spec_field.default is not MISSING:
        return spec_field.default
    return spec_field.default_factory()  # type: ignore[misc]


SETTING_SPECS: dict[str, SettingSpec] = {f.name: f.metadata["spec"] for f in fields(TrainSettings)}
