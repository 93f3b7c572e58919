"""Command line: `intentdesk import|train|evaluate|classify|serve|export-serve|screenshot`, and the GUI
with no arguments.

Heavy libraries (torch, transformers) are imported inside the commands, so `--help` and the
GUI start fast. Every failure (bad input, a usage mistake, a file system error) prints one
`error: ...` line, never a traceback, and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from intentdesk.core.errors import AudioError, DatasetError, IntentDeskError
from intentdesk.core.learning.settings import PRECISIONS
from intentdesk.paths import prepare_process

EXIT_BAD_INPUT = 2


def _print_err(*parts: object) -> None:
    if sys.stderr is not None:
        print(*parts, file=sys.stderr, flush=True)


def _print_json(value: object) -> None:
    """Strict JSON on stdout: a non-finite number (NaN, inf) becomes null rather than the invalid
    `NaN` token that json.dumps writes by default."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_or_null(value), allow_nan=False)
    print(text)


def _finite_or_null(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


class UsageError(IntentDeskError):
    """A command line argparse refuses (unknown option, missing argument, bad number)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one `error:` line and exit 2, like every other
    error, instead of a usage block followed by the message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _number(text: str, kind: type, check, wanted: str) -> float:
    """argparse type helper: parse `text` as `kind` (finite) and require `check(value)`."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not math.isfinite(value) or not check(value):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 1, "a whole number of at least 1"))


def non_negative_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 0, "a whole number of at least 0"))


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: v > 0, "a number above 0")


def share(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < 1, "a number between 0 and 1 (e.g. 0.2)")


def cmd_import(args: argparse.Namespace) -> int:
    """Import into DATA (created if needed). The source is checked before anything is written, and a
    failed or interrupted import removes only what it created itself, never a folder that was there."""
    from intentdesk.core.data.importers import check_source, import_into
    from intentdesk.core.data.store import DatasetStore

    data = Path(args.data).expanduser()
    check_source(args.source, data)
    with DatasetStore.opened_for_import(data) as store:
        report = import_into(store, args.source, hub_config=args.hub_config, split=args.split,
                             label_column=args.label_column, label=args.label)
    for message in report.skipped:
        _print_err(f"skipped {message}")
    if report.duplicates:  # one line: a re-run of a big import would print hundreds
        _print_err(f"skipped {len(report.duplicates)} file(s) already in the dataset, e.g. {report.duplicates[0]}")
    for message in report.warnings:
        _print_err(f"warning {message}")
    print(json.dumps({"data": str(store.root), "added": len(report.added), "skipped": len(report.skipped),
                      "duplicates": len(report.duplicates), "warnings": len(report.warnings),
                      "clips": len(store), "labels": store.label_counts()}))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from intentdesk.core.events import EpochEvent, StageEvent, StepEvent, TrainStarted
    from intentdesk.core.learning.trainer import TrainSettings, train

    settings = TrainSettings(base_model=args.base, mode=args.mode, epochs=args.epochs, max_seconds=args.max_seconds,
                             seed=args.seed, learning_rate=args.learning_rate, batch_size=args.batch_size,
                             eval_share=args.eval_share)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    last_stage = [""]

    def report(event) -> None:
        if isinstance(event, StageEvent) and event.stage != last_stage[0]:
            if not event.stage.startswith("Computing") or event.stage.endswith(" 0/" + event.stage.split("/")[-1]):
                _print_err(f"[{event.stage}]")
            last_stage[0] = event.stage
        elif isinstance(event, TrainStarted):
            _print_err(f"training {event.mode} on {event.device}: {event.train_clips} train / {event.eval_clips} "
                       f"eval clips, {len(event.labels)} labels, {event.total_steps} steps")
        elif isinstance(event, StepEvent) and (event.step % 20 == 0 or event.step == event.total_steps):
            _print_err(f"step {event.step}/{event.total_steps} loss {event.loss:.4f} lr {event.learning_rate:.2e} "
                       f"eta {event.eta_s:.0f}s")
        elif isinstance(event, EpochEvent):
            _print_err(f"epoch {event.epoch}: eval loss {event.eval_loss:.4f} accuracy {event.accuracy:.4f} "
                       f"macro-F1 {event.macro_f1:.4f}{' (best)' if event.is_best else ''} [{event.elapsed_s:.0f}s]")

    try:
        result = train(args.data, args.out, settings, report, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    metrics = result.metrics
    _print_json({
        "output_dir": str(result.output_dir) if result.output_dir else None, "cancelled": result.cancelled,
        "mode": args.mode, "best_epoch": result.best_epoch, "seconds": round(result.seconds, 1),
        "accuracy": metrics.get("accuracy"), "macro_f1": metrics.get("f1", {}).get("macro"),
        "eval_loss": metrics.get("eval_loss"), "train_clips": metrics.get("train_clips"),
        "eval_clips": metrics.get("eval_clips"),
    })
    return 0 if result.output_dir else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from intentdesk.core.inference.evaluation import evaluate_model

    metrics = evaluate_model(args.model, args.data, split=args.split, precision=args.precision)
    if args.json:
        _print_json(metrics)
    else:
        print(f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['f1']['macro']:.4f}  "
              f"weighted-F1 {metrics['f1']['weighted']:.4f}  ({metrics['count']} clips, split {args.split})")
        for label, row in metrics["per_class"].items():
            print(f"  {label:24s} P {row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f} n={row['support']}")
    return 0


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="number format for inference: auto picks the fastest that agrees with fp32 here")


def cmd_classify(args: argparse.Namespace) -> int:
    from intentdesk.core.inference.classifier import Classifier, check_model_folder

    check_model_folder(Path(args.model))
    missing = [f for f in args.files if not Path(f).is_file()]
    if len(missing) == len(args.files):  # nothing to classify: say so before the slow model load
        raise AudioError(missing[0], "is a folder, not an audio file" if Path(missing[0]).is_dir() else
                         "file not found", "give audio files: WAV, FLAC, OGG or MP3")
    classifier = Classifier(args.model, precision=args.precision)
    results = classifier.classify_files(args.files, top_k=args.top_k, batch_size=8)
    failed = [r for r in results if r.error]
    if args.json:
        _print_json([r.as_dict() for r in results])
    else:
        for r in results:
            if r.error:
                continue
            ranking = ", ".join(f"{p.label} {p.score:.3f}" for p in r.ranking or [])
            note = f"  ({r.note})" if r.note else ""
            print(f"{r.file}: {ranking}  [{r.latency_ms:.0f} ms]{note}")
    if failed and len(failed) == len(results):
        more = f" (and {len(failed) - 1} more file(s) that cannot be classified)" if len(failed) > 1 else ""
        raise IntentDeskError(failed[0].error + more)
    for r in failed:
        _print_err(f"skipped {r.error}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from intentdesk.service.app import ServiceOptions, megabytes
    from intentdesk.service.runner import serve

    options = ServiceOptions(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, api_key=args.api_key,
                             max_body_bytes=megabytes(args.max_body_mb), max_seconds=args.max_seconds)
    serve(args.model, args.host, args.port, options, precision=args.precision)  # options/port checked first
    return 0


def cmd_export_serve(args: argparse.Namespace) -> int:
    from intentdesk.service.app import megabytes
    from intentdesk.service.ray_export import export_ray_app

    out = export_ray_app(args.model, args.out, max_batch=args.max_batch, min_replicas=args.min_replicas,
                         max_replicas=args.max_replicas, max_seconds=args.max_seconds,
                         max_body_bytes=megabytes(args.max_body_mb))
    print(f"{out}: start it with  cd {out} && serve run serve_config.yaml")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    """The app; `intentdesk --dataset D` works like `intentdesk gui --dataset D` (same for --model, --fake-mic)."""
    dataset, model, fake_mic = (getattr(args, name, None) or getattr(args, f"app_{name}")
                                for name in ("dataset", "model", "fake_mic"))
    check_app_inputs(dataset, model, fake_mic)
    from intentdesk.gui.app import run_app

    return run_app(dataset=dataset, model=model, fake_mic=fake_mic)


def check_app_inputs(dataset: str | None, model: str | None, fake_mic: str | None) -> None:
    """The app's start-up paths, checked before a window opens (it would skip a bad one silently)."""
    if dataset is not None:
        folder = Path(dataset).expanduser()
        if not folder.is_dir():
            raise DatasetError(f"{dataset}: dataset folder not found" if not folder.exists()
                               else f"{dataset}: is a file, not a dataset folder")
        if not (folder / "metadata.csv").is_file():
            raise DatasetError(f"{dataset}: not a dataset folder (no metadata.csv); choose one made by "
                               "IntentDesk (intentdesk import)")
    if model is not None:
        from intentdesk.core.models.hub import check_classifier_folder

        check_classifier_folder(model)
    if fake_mic is not None and not Path(fake_mic).expanduser().is_file():
        raise AudioError(fake_mic, "is a folder, not an audio file" if Path(fake_mic).is_dir() else "file not found",
                         "--fake-mic replays a WAV file as the microphone")


def cmd_screenshot(args: argparse.Namespace) -> int:
    from intentdesk.gui.app import screenshot

    out = Path(args.out).expanduser()
    if out.is_dir() or out.suffix.lower() != ".png":
        raise IntentDeskError(f"{args.out}: the screenshot is a PNG file; give a file name ending in .png")
    check_app_inputs(args.dataset, args.model, args.fake_mic)
    screenshot(args.tab, out, dataset=args.dataset, model=args.model, fake_mic=args.fake_mic)
    if not out.is_file():
        raise IntentDeskError(f"{args.out}: the screenshot could not be written; choose a folder you can write to")
    print(args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="intentdesk", description="Speech intent classification. Without a command the app "
                    "opens (the options below apply to it, like `intentdesk gui ...`).",
                    epilog="--self-test: train and classify a tiny generated example, "
                           "print one line, exit 0 (checks an installation)")
    parser.add_argument("--dataset", dest="app_dataset", metavar="DIR", help="open the app on this dataset folder")
    parser.add_argument("--model", dest="app_model", metavar="DIR", help="open the app with this model in Classify")
    parser.add_argument("--fake-mic", dest="app_fake_mic", metavar="WAV",
                        help="replay this file as the microphone (demos, checks)")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("import", help="import clips into a dataset folder (created if needed)")
    p.add_argument("source", help="a folder of label folders, an audiofolder, a file, or a hub dataset id")
    p.add_argument("data", help="the dataset folder")
    p.add_argument("--hub-config", help="hub dataset configuration, e.g. en-US for PolyAI/minds14")
    p.add_argument("--split", help="hub dataset split (default train)")
    p.add_argument("--label-column", help="the column holding the intent (default: label/intent_class/...)")
    p.add_argument("--label", help="label for a single file, or for every file of a plain folder")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("train", help="fine-tune a model on a dataset")
    p.add_argument("data")
    p.add_argument("--base", default="facebook/wav2vec2-base", help="hub id or local model folder")
    p.add_argument("--out", required=True, help="where to save the model folder")
    p.add_argument("--mode", choices=["full", "quick"], default="full")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--max-seconds", type=positive_float, default=8.0, help="clips are cut to this (0.5 to 60)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--learning-rate", type=positive_float)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--eval-share", type=share, default=0.2, help="share of each label held out to evaluate")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a model folder on a dataset")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--split", choices=["eval", "all"], default="eval")
    p.add_argument("--json", action="store_true")
    add_precision_option(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("classify", help="ranked intents for audio files")
    p.add_argument("model")
    p.add_argument("files", nargs="+")
    p.add_argument("--top-k", type=positive_int, help="how many intents to list (default: all)")
    p.add_argument("--json", action="store_true")
    add_precision_option(p)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("screenshot", help="render a tab of the window to a PNG")
    p.add_argument("--tab", choices=["label", "train", "classify"], default="label")
    p.add_argument("out")
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--fake-mic", metavar="WAV", help="replay this file as the microphone")
    p.set_defaults(func=cmd_screenshot)

    p = sub.add_parser("serve", help="HTTP inference service for a model folder (POST /classify)")
    p.add_argument("model")
    p.add_argument("--host", default="127.0.0.1", help="other than loopback needs --api-key")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-batch", type=int, default=16, help="most clips in one model call")
    p.add_argument("--max-wait-ms", type=float, default=5.0, help="longest wait for batch-mates")
    p.add_argument("--api-key", help="required in the X-API-Key header of every request")
    p.add_argument("--max-body-mb", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest clip accepted")
    add_precision_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export-serve", help="write a Ray Serve application for a model folder")
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--max-batch", type=int, default=16)
    p.add_argument("--min-replicas", type=int, default=1)
    p.add_argument("--max-replicas", type=int, default=4)
    p.add_argument("--max-body-mb", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest clip accepted")
    p.set_defaults(func=cmd_export_serve)

    p = sub.add_parser("gui", help="open the desktop app (the default)")
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--fake-mic", metavar="WAV", help="replay this file as the microphone (demos, checks)")
    p.set_defaults(func=cmd_gui)
    return parser


def cmd_self_test() -> int:
    """One line and exit 0 when the installation can train and classify; exit 1 otherwise."""
    from intentdesk import selftest

    try:
        print(selftest.run(), flush=True)
    except Exception as error:  # noqa: BLE001 - the whole point is to report any failure
        import traceback

        _print_err(traceback.format_exc())
        print(f"IntentDesk self-test FAILED: {type(error).__name__}: {error}", flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    prepare_process()
    argv = sys.argv[1:] if argv is None else argv
    if "--self-test" in argv:
        return cmd_self_test()
    try:
        return run_command(build_parser().parse_args(argv))
    except IntentDeskError as error:
        _print_err(f"error: {error}")
        return EXIT_BAD_INPUT
    except OSError as error:  # permission denied, disk full, read-only folder...
        where = f"{error.filename}: " if error.filename else ""
        _print_err(f"error: {where}{error.strerror or error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _print_err("interrupted")
        return 130
    except Exception as error:  # a bug: still one line for the user, the traceback on request
        if os.environ.get("INTENTDESK_DEBUG"):
            raise
        from intentdesk.core.models.hub import one_line

        _print_err(f"error: unexpected {type(error).__name__}: {one_line(error)} "
                   "(run with INTENTDESK_DEBUG=1 for details, and please report it)")
        return EXIT_BAD_INPUT


def run_command(args: argparse.Namespace) -> int:
    app_options = [name for name in ("dataset", "model", "fake_mic") if getattr(args, f"app_{name}")]
    if args.command is None:
        return cmd_gui(args)
    if app_options and args.command != "gui":
        raise UsageError(f"intentdesk: --{app_options[0].replace('_', '-')} before a command is for the app; "
                         f"put it after `{args.command}`")
    return args.func(args)
