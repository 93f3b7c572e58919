"""Command line: `intentdesk import|train|evaluate|classify|serve|export-serve|screenshot`, and the GUI
with no arguments.

Heavy libraries (torch, transformers) are imported inside the commands, so `--help` and the
GUI start fast. Errors caused by the user's input print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from intentdesk.core.settings import PRECISIONS
from intentdesk.paths import prepare_process

EXIT_BAD_INPUT = 2


def _print_err(*parts: object) -> None:
    if sys.stderr is not None:
        print(*parts, file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    """Import into DATA (created if needed). The source is checked before anything is written, and a
    failed or interrupted import removes only what it created itself, never a folder that was there."""
    from intentdesk.core.dataset import DatasetStore
    from intentdesk.core.importers import check_source, import_into

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
    from intentdesk.core.training import TrainSettings, train

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
    print(json.dumps({
        "output_dir": str(result.output_dir) if result.output_dir else None, "cancelled": result.cancelled,
        "mode": args.mode, "best_epoch": result.best_epoch, "seconds": round(result.seconds, 1),
        "accuracy": metrics.get("accuracy"), "macro_f1": metrics.get("f1", {}).get("macro"),
        "eval_loss": metrics.get("eval_loss"), "train_clips": metrics.get("train_clips"),
        "eval_clips": metrics.get("eval_clips"),
    }))
    return 0 if result.output_dir else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from intentdesk.core.evaluation import evaluate_model

    metrics = evaluate_model(args.model, args.data, split=args.split, precision=args.precision)
    if args.json:
        print(json.dumps(metrics))
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
    from intentdesk.core.inference import Classifier

    classifier = Classifier(args.model, precision=args.precision)
    results = classifier.classify_files(args.files, top_k=args.top_k, batch_size=8)
    failed = [r for r in results if r.error]
    if args.json:
        print(json.dumps([r.as_dict() for r in results]))
    else:
        for r in results:
            if r.error:
                continue
            ranking = ", ".join(f"{p.label} {p.score:.3f}" for p in r.ranking or [])
            print(f"{r.file}: {ranking}  [{r.latency_ms:.0f} ms]")
    for r in failed:
        _print_err(r.error)
    return EXIT_BAD_INPUT if failed and len(failed) == len(results) else 0


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
    from intentdesk.gui.app import run_app

    return run_app(dataset=getattr(args, "dataset", None), model=getattr(args, "model", None),
                   fake_mic=getattr(args, "fake_mic", None))


def cmd_screenshot(args: argparse.Namespace) -> int:
    from intentdesk.gui.app import screenshot

    screenshot(args.tab, Path(args.out), dataset=args.dataset, model=args.model, fake_mic=args.fake_mic)
    print(args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intentdesk", description="Speech intent classification.",
                                     epilog="--self-test: train and classify a tiny generated example, "
                                            "print one line, exit 0 (checks an installation)")
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
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-seconds", type=float, default=8.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-share", type=float, default=0.2)
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
    p.add_argument("--top-k", type=int)
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
    args = build_parser().parse_args(argv)
    if args.command is None:
        return cmd_gui(args)
    from intentdesk.core.errors import IntentDeskError

    try:
        return args.func(args)
    except IntentDeskError as error:
        _print_err(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _print_err("interrupted")
        return 130
