"""`intentdesk evaluate` and `intentdesk classify`: using a trained model folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from intentdesk.cli.output import print_err, print_json
from intentdesk.cli.parser import add_precision_option, positive_int
from intentdesk.cli.progress import ProgressBar, RunView
from intentdesk.core.errors import AudioError, IntentDeskError

CHUNK = 32  # files per classify_files call in `intentdesk classify`
# Some files classified, some not: not 0, so a script notices, and not 2 (nothing could be done), so it
# can tell that the answers it got are worth reading.
EXIT_SOME_FAILED = 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from intentdesk.cli.data import report_repairs
    from intentdesk.core.inference.evaluation import evaluate_model

    report_repairs(args.data)
    view = RunView(ProgressBar())
    metrics = evaluate_model(args.model, args.data, split=args.split, precision=args.precision, on_event=view)
    view.bar.end()
    if metrics.get("words_problem"):
        print_err(f"warning: {metrics['words_problem']}")
    if args.json:
        print_json(metrics)
        return 0
    print(f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['f1']['macro']:.4f}  "
          f"weighted-F1 {metrics['f1']['weighted']:.4f}  ({metrics['count']} clips, split {args.split})")
    if "fused" in metrics:
        print("  " + "  ".join(f"{name} {metrics[name]['accuracy']:.4f}" for name in ("sound", "words", "fused"))
              + "  (accuracy by sound only, by words only, and both fused: the figures above)")
    for label, row in metrics["per_class"].items():
        print(f"  {label:24s} P {row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f} n={row['support']}")
    return 0


def print_result(result) -> None:
    """One file's ranking on a line (marked when by sound only although the model has words: the reason is
    a warning on stderr, once); with a words model, what was heard on the next."""
    ranking = ", ".join(f"{p.label} {p.score:.3f}" for p in result.ranking or [])
    remarks = [result.note] if result.note else []
    if result.words_problem:
        remarks.append("by sound only, see the warning")
    note = f"  ({'; '.join(remarks)})" if remarks else ""
    print(f"{result.file}: {ranking}  [{result.latency_ms:.0f} ms]{note}")
    if result.transcript is not None:
        flag = "  (uncertain: out of scope or not understood)" if result.uncertain else ""
        print(f"  heard: {result.transcript.strip() or '(no words)'}{flag}")


def cmd_classify(args: argparse.Namespace) -> int:
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.inference.model_folder import check_model_folder

    check_model_folder(Path(args.model))
    missing = [f for f in args.files if not Path(f).is_file()]
    if len(missing) == len(args.files):  # nothing to classify: say so before the slow model load
        first = Path(missing[0])
        more = f" (and {len(missing) - 1} more that cannot be classified)" if len(missing) > 1 else ""
        problem = "is a folder, not an audio file" if first.is_dir() else \
            "is not a regular file (a pipe or a device)" if first.exists() else "file not found"
        raise AudioError(missing[0], problem + more, "give audio files: WAV, FLAC, OGG or MP3")
    classifier = Classifier(args.model, precision=args.precision)
    if classifier.words_problem:
        print_err(f"warning: {classifier.words_problem}")
    results = classify_in_chunks(classifier, args.files, args.top_k)
    for problem in dict.fromkeys(r.words_problem for r in results):  # the words part failed on some clips
        if problem and problem != classifier.words_problem:
            print_err(f"warning: {problem}")
    failed = [r for r in results if r.error]
    if args.json:
        print_json([r.as_dict() for r in results])
    else:
        for r in results:
            if not r.error:
                print_result(r)
    if failed and len(failed) == len(results):
        more = f" (and {len(failed) - 1} more file(s) that cannot be classified)" if len(failed) > 1 else ""
        raise IntentDeskError(failed[0].error + more)
    for r in failed:
        print_err(f"skipped {r.error}")
    if failed:
        print_err(f"{len(failed)} of {len(results)} files could not be classified (exit code {EXIT_SOME_FAILED})")
        return EXIT_SOME_FAILED
    return 0


def classify_in_chunks(classifier, files: list[str], top_k: int | None, bar: ProgressBar | None = None) -> list:
    """`classify_files` on `CHUNK` files at a time, with a bar over all of them: the same results as one
    call (clips share batches only where that does not change their scores), a bar that moves, and at
    most a chunk of decoded clips in memory rather than every file's."""
    bar = bar or ProgressBar()
    results = []
    for start in range(0, len(files), CHUNK):
        if len(files) > CHUNK:
            bar.update("classifying", start, len(files))
        results += classifier.classify_files(files[start:start + CHUNK], top_k=top_k, batch_size=8)
    if len(files) > CHUNK:
        bar.update("classifying", len(files), len(files))
    return results


def add_parsers(sub) -> None:
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
