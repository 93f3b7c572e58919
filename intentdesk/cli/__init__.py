"""Command line: `intentdesk import|train|evaluate|classify|serve|export-serve|export-app|screenshot|gui`; the app with
no command. One module per command group (data, train, models, serve, app); `main` is the entry point.

Heavy libraries (torch, transformers) are imported inside the commands, so `--help` and the
GUI start fast. Every failure (bad input, a usage mistake, a file system error) prints one
`error: ...` line, never a traceback, and exits with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from intentdesk.cli import app, data, models, serve, train
from intentdesk.cli.output import print_err
from intentdesk.cli.parser import Parser, UsageError
from intentdesk.core.errors import DiskFull, IntentDeskError, first_line
from intentdesk.core.files import free_bytes, is_disk_full
from intentdesk.entry import INTERRUPTED
from intentdesk.paths import prepare_process

EXIT_BAD_INPUT = 2
APP_OPTIONS = ("dataset", "model", "fake_mic", "carried")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        prepare_process()
        if "--self-test" in argv:
            return cmd_self_test()
        return run_command(build_parser().parse_args(argv))
    except IntentDeskError as error:
        print_err(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print_err("interrupted")
        return INTERRUPTED
    except Exception as error:
        if os.environ.get("INTENTDESK_DEBUG") and not isinstance(error, OSError) and not is_disk_full(error):
            raise
        print_err(f"error: {one_line(error)}")
        return EXIT_BAD_INPUT


def one_line(error: Exception) -> str:
    """What the user reads for an error that is not IntentDesk's own: a full disk that no command's
    guard named still as the one message for it, an OS error as the OS says it, a bug as one line."""
    if is_disk_full(error):
        where = getattr(error, "filename", None) or "."
        return str(DiskFull(where, free_bytes(where), "the command stopped"))
    if isinstance(error, OSError):  # permission denied, read-only folder...
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    return (f"unexpected {type(error).__name__}: {first_line(error)} "
            "(run with INTENTDESK_DEBUG=1 for details, and please report it)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="intentdesk", description="Speech intent classification. Without a command the app "
                    "opens (the options below apply to it, like `intentdesk gui ...`).",
                    epilog="--self-test: train and classify a tiny generated example, "
                           "print one line, exit 0 (checks an installation)")
    parser.add_argument("--dataset", dest="app_dataset", metavar="DIR", help="open the app on this dataset folder")
    parser.add_argument("--model", dest="app_model", metavar="DIR", help="open the app with this model in Classify")
    parser.add_argument("--fake-mic", dest="app_fake_mic", metavar="WAV",
                        help="replay this file as the microphone (demos, checks)")
    parser.add_argument("--carried", dest="app_carried", metavar="DIR",
                        help="open an app made with export-app as its person sees it (Classify only)")
    sub = parser.add_subparsers(dest="command")
    for group in (data, train, models, serve, app):
        group.add_parsers(sub)
    return parser


def run_command(args: argparse.Namespace) -> int:
    app_options = [name for name in APP_OPTIONS if getattr(args, f"app_{name}")]
    if args.command is None:
        return app.cmd_gui(args)
    if app_options and args.command != "gui":
        raise UsageError(f"intentdesk: --{app_options[0].replace('_', '-')} before a command is for the app; "
                         f"put it after `{args.command}`")
    return args.func(args)


def cmd_self_test() -> int:
    """One line and exit 0 when the installation can train and classify; exit 1 otherwise."""
    from intentdesk import selftest

    try:
        print(selftest.run(), flush=True)
    except Exception as error:  # noqa: BLE001 - the whole point is to report any failure
        import traceback

        print_err(traceback.format_exc())
        print(f"IntentDesk self-test FAILED: {type(error).__name__}: {error}", flush=True)
        return 1
    return 0
