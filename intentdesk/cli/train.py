"""`intentdesk train`: its setting flags are generated from `SETTING_SPECS` (help, bounds, defaults),
so the CLI, the Train tab's form and `TrainSettings` can never disagree."""

from __future__ import annotations

import argparse
import signal
import threading
import typing

from intentdesk.cli.output import print_err, print_json
from intentdesk.cli.parser import bounds_text, spec_number
from intentdesk.core.events import EpochEvent, Stage, StageEvent, StepEvent, TrainEvent, TrainStarted
from intentdesk.core.learning.settings import MODE_DEFAULTS, SETTING_SPECS, TrainSettings, default_of, words_unavailable


def cmd_train(args: argparse.Namespace) -> int:
    from intentdesk.core.learning.trainer import train

    given = {name: getattr(args, name) for name in cli_settings() if getattr(args, name) is not None}
    settings = TrainSettings(base_model=args.base, mode=args.mode, **given)
    words_note = None
    if args.words is None:  # on by default when its models are here: the run says which way it went, and why
        missing = words_unavailable(settings)
        words_note = "[Learning from the words too (--no-words to skip)]" if missing is None else \
            f"[Learning from the sound only: {missing}; --words to insist, --asr/--text-encoder for folders]"
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        record = train(args.data, args.out, settings, reporter(words_note), cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    print_json({
        "output_dir": str(record.path) if record.path else None, "cancelled": record.cancelled,
        "mode": args.mode, "model": record.kind, "best_epoch": record.best_epoch,
        "seconds": round(record.train_seconds, 1),
        "accuracy": record.accuracy, "macro_f1": record.macro_f1, "eval_loss": record.eval_loss,
        "train_clips": record.train_clips, "eval_clips": record.eval_clips,
        **({"sound_accuracy": record.sound_accuracy, "words_accuracy": record.words_accuracy,
            "fused_accuracy": record.fused_accuracy} if record.has_words else {}),
    })
    return 0 if record.path else 1


def reporter(words_note: str | None = None):
    """Progress on stderr: each phase once (and when it completes), every 20th step, every epoch; once the
    run has started (bad input fails before any output), `words_note`: whether it learns the words, and why."""
    shown: list[Stage | None] = [None]

    def report(event: TrainEvent) -> None:
        if isinstance(event, StageEvent):
            if event.kind != shown[0] or (event.step is not None and event.step == event.total):
                print_err(f"[{event.stage}]")
            shown[0] = event.kind
        elif isinstance(event, TrainStarted):
            print_err(f"training {event.mode} on {event.device}: {event.train_clips} train / {event.eval_clips} "
                      f"eval clips, {len(event.labels)} labels, {event.total_steps} steps")
            if words_note:
                print_err(words_note)
        elif isinstance(event, StepEvent) and (event.step % 20 == 0 or event.step == event.total_steps):
            print_err(f"step {event.step}/{event.total_steps} loss {event.loss:.4f} lr {event.learning_rate:.2e} "
                      f"eta {event.eta_s:.0f}s")
        elif isinstance(event, EpochEvent):
            print_err(f"epoch {event.epoch}: eval loss {event.eval_loss:.4f} accuracy {event.accuracy:.4f} "
                      f"macro-F1 {event.macro_f1:.4f}{' (best)' if event.is_best else ''} [{event.elapsed_s:.0f}s]")

    return report


def cli_settings() -> list[str]:
    """The `TrainSettings` fields that have a flag (besides --base and --mode)."""
    return [name for name, spec in SETTING_SPECS.items() if spec.cli]


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a model on a dataset")
    p.add_argument("data")
    p.add_argument("--base", default=default_of("base_model"), help="hub id or local model folder")
    p.add_argument("--out", required=True, help="where to save the model folder")
    p.add_argument("--mode", choices=SETTING_SPECS["mode"].choices, default=default_of("mode"))
    advanced = p.add_argument_group("advanced settings")
    for name in cli_settings():
        add_setting_flag(advanced if SETTING_SPECS[name].advanced else p, name)
    p.set_defaults(func=cmd_train)


def add_setting_flag(parser, name: str) -> None:
    """`--name-with-dashes`, typed, bounded and explained as the setting's spec says; unset means its default."""
    spec, kind = SETTING_SPECS[name], _value_type(name)
    flag = "--" + name.replace("_", "-")
    bounds = "" if kind in (bool, str) or spec.choices else bounds_text(spec, kind) + "; "
    help_text = f"{spec.help} ({bounds}{_default_text(name)})".replace("%", "%%")  # argparse formats help with %
    if kind is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
    elif spec.choices:
        parser.add_argument(flag, choices=spec.choices, default=None, help=help_text)
    elif kind is str:
        parser.add_argument(flag, default=None, metavar="MODEL", help=help_text)
    else:
        parser.add_argument(flag, type=spec_number(spec, kind), default=None, metavar="N" if kind is int else "X",
                            help=help_text)


def _value_type(name: str) -> type:
    """int, float, bool or str: the field's type without its `| None`."""
    hint = typing.get_type_hints(TrainSettings)[name]
    return next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint)


def _default_text(name: str) -> str:
    if default_of(name) is None and _value_type(name) is bool:
        return "default: on when its models are on this computer"
    if SETTING_SPECS[name].mode_default:
        return "default: " + ", ".join(f"{mode} {values[name]:g}" for mode, values in MODE_DEFAULTS.items())
    return f"default: {default_of(name)}"
