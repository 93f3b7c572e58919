"""`intentdesk import`: clips from a folder, another dataset or the hub into a dataset folder;
`intentdesk transcribe`: what each clip says, into metadata.csv's transcript column."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intentdesk.cli.output import print_err
from intentdesk.cli.progress import ProgressBar

BAR_FROM = 50  # files: an import this large shows its progress (a small one is done in a moment)


def report_repairs(data: str | Path) -> None:
    """Open the dataset a command reads (evaluate, train) and say what opening it put right, before the command
    runs: audio files metadata.csv did not list are adopted on open, which must not happen unannounced."""
    from intentdesk.core.data.store import DatasetStore

    for note in DatasetStore.open(Path(data).expanduser()).repairs:
        print_err(f"note: {data}: {note}")


def cmd_import(args: argparse.Namespace) -> int:
    """Import into DATA (created if needed). The source is checked before anything is written, and a
    failed or interrupted import removes only what it created itself, never a folder that was there."""
    from intentdesk.core.data.importers import check_source, import_into
    from intentdesk.core.data.store import DatasetStore

    data = Path(args.data).expanduser()
    check_source(args.source, data)
    bar = ProgressBar()
    with DatasetStore.opened_for_import(data) as store:
        store.on_copied = lambda done, total: bar.update("importing", done, total) if total >= BAR_FROM else None
        report = import_into(store, args.source, hub_config=args.hub_config, split=args.split,
                             label_column=args.label_column, label=args.label)
    for message in report.skipped:
        print_err(f"skipped {message}")
    if report.duplicates:  # one line: a re-run of a big import would print hundreds
        print_err(f"skipped {len(report.duplicates)} file(s) already in the dataset, e.g. {report.duplicates[0]}")
    for message in report.warnings:
        print_err(f"warning {message}")
    print(json.dumps({"data": str(store.root), "added": len(report.added), "skipped": len(report.skipped),
                      "duplicates": len(report.duplicates), "warnings": len(report.warnings),
                      "clips": len(store), "labels": store.label_counts()}))
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Transcribe the clips of DATA that have no transcript yet (a corrected one is never replaced)."""
    import signal
    import threading

    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.errors import ModelError, problem_of
    from intentdesk.core.words.transcribe import recogniser_id, transcribe_dataset, untranscribed

    store = DatasetStore.open(Path(args.data).expanduser())
    cancel = threading.Event()
    bar = ProgressBar()

    def progress(done: int, total: int) -> None:
        if done:  # from the first batch on: 0 comes before the recogniser loads, which can still fail
            bar.update("transcribing", done, total)

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        written = transcribe_dataset(store, args.asr, progress, cancel)
    except ModelError as error:
        raise ModelError(f"{problem_of(error)}; download it once while online, or pass a local speech "
                         "recognition folder with --asr") from error
    finally:
        bar.end()
        signal.signal(signal.SIGINT, previous)
    clips = store.clips
    print(json.dumps({"data": str(store.root), "recogniser": recogniser_id(args.asr), "transcribed": written,
                      "left": len(untranscribed(store)), "clips": len(clips),
                      "corrected_by_user": sum(c.transcript_by == "user" for c in clips),
                      "cancelled": cancel.is_set()}))
    return 1 if cancel.is_set() else 0


def add_parsers(sub) -> None:
    p = sub.add_parser("import", help="import clips into a dataset folder (created if needed)")
    p.add_argument("source", help="a folder of label folders, an audiofolder, a file, or a hub dataset id")
    p.add_argument("data", help="the dataset folder")
    p.add_argument("--hub-config", help="hub dataset configuration, e.g. en-US for PolyAI/minds14")
    p.add_argument("--split", help="hub dataset split (default train)")
    p.add_argument("--label-column", help="the column holding the intent (default: label/intent_class/...)")
    p.add_argument("--label", help="label for a single file, or for every file of a plain folder")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("transcribe", help="write down what each clip says (the transcript column of metadata.csv)")
    p.add_argument("data", help="the dataset folder")
    p.add_argument("--asr", metavar="MODEL", help="speech recogniser: a hub id or a local folder "
                   "(default: the small English Whisper, openai/whisper-tiny.en)")
    p.set_defaults(func=cmd_transcribe)
