"""`intentdesk train`: its setting flags are generated from `SETTING_SPECS` (help, bounds, defaults),
so the CLI, the Train tab's form and `TrainSettings` can never disagree."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from intentdesk.cli.output import print_json
from intentdesk.cli.parser import bounds_text, spec_number
from intentdesk.cli.progress import ProgressBar, RunView
from intentdesk.core.events import TrainEvent, TrainStarted
from intentdesk.core.learning.settings import (
    MODE_DEFAULTS,
    SETTING_SPECS,
    TrainSettings,
    default_of,
    field_type,
    settings_from_file,
    words_unavailable,
)


def cmd_train(args: argparse.Namespace) -> int:
    from intentdesk.cli.data import report_repairs
    from intentdesk.core.learning.trainer import train

    settings = settings_of(args)
    report_repairs(args.data)
    words_note = None
    if settings.words is None:  # on by default when its models are here: the run says which way it went, and why
        missing = words_unavailable(settings)
        words_note = "[Learning from the words too (--no-words to skip)]" if missing is None else \
            f"[Learning from the sound only: {missing}; --words to insist, --asr/--text-encoder for folders]"
    cancel, view = threading.Event(), RunView(ProgressBar())
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        record = train(args.data, args.out, settings, reporter(words_note, view), cancel)
    finally:
        view.bar.end()
        signal.signal(signal.SIGINT, previous)
    print_json({
        "output_dir": str(record.path) if record.path else None, "cancelled": record.cancelled,
        "mode": settings.mode, "model": record.kind, "best_epoch": record.best_epoch,
        "seconds": round(record.train_seconds, 1),
        "accuracy": record.accuracy, "macro_f1": record.macro_f1, "eval_loss": record.eval_loss,
        "train_clips": record.train_clips, "eval_clips": record.eval_clips,
        **({"sound_accuracy": record.sound_accuracy, "words_accuracy": record.words_accuracy,
            "fused_accuracy": record.fused_accuracy} if record.has_words else {}),
    })
    return 0 if record.path else 1


def settings_of(args: argparse.Namespace) -> TrainSettings:
    """The run's settings: the defaults, then those of `--settings FILE` (a model's run_settings.json
    repeats its run), then the flags given on the command line, each over the one before."""
    chosen = settings_from_file(Path(args.settings).expanduser()) if args.settings else {}
    chosen.update({name: getattr(args, name) for name in cli_settings() if getattr(args, name) is not None})
    chosen.update({name: value for name, value in (("base_model", args.base), ("mode", args.mode)) if value})
    return TrainSettings(**chosen)


def reporter(words_note: str | None = None, view: RunView | None = None):
    """Progress on stderr as `RunView` shows it (a bar on a terminal, plain lines now and then otherwise);
    once the run has started (bad input fails before any output), `words_note`: whether it learns the
    words, and why."""
    view = view or RunView(ProgressBar())

    def report(event: TrainEvent) -> None:
        view(event)
        if isinstance(event, TrainStarted) and words_note:
            view.bar.line(words_note)

    return report


def cli_settings() -> list[str]:
    """The `TrainSettings` fields that have a flag (besides --base and --mode)."""
    return [name for name, spec in SETTING_SPECS.items() if spec.cli]


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a model on a dataset")
    p.add_argument("data")
    p.add_argument("--base", default=None, help=f"hub id or local model folder (default: {default_of('base_model')})")
    p.add_argument("--out", required=True, help="where to save the model folder")
    p.add_argument("--mode", choices=SETTING_SPECS["mode"].choices, default=None,
                   help=f"(default: {default_of('mode')})")
    p.add_argument("--settings", metavar="FILE", help="a JSON file of settings, e.g. a model's run_settings.json "
                   "to repeat its run; keys are the settings' names (epochs, learning_rate...); flags given too win")
    advanced = p.add_argument_group("advanced settings")
    for name in cli_settings():
        add_setting_flag(advanced if SETTING_SPECS[name].advanced else p, name)
    p.set_defaults(func=cmd_train)


def add_setting_flag(parser, name: str) -> None:
    """`--name-with-dashes`, typed, bounded and explained as the setting's spec says; unset means its default."""
    spec, kind = SETTING_SPECS[name], field_type(name)
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


def _default_text(name: str) -> str:
    if default_of(name) is None and field_type(name) is bool:
        return "default: on when its models are on this computer"
    if SETTING_SPECS[name].mode_default:
        return "default: " + ", ".join(f"{mode} {values[name]:g}" for mode, values in MODE_DEFAULTS.items())
    return f"default: {default_of(name)}"
