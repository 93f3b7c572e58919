"""`intentdesk gui` (also: no command) and `intentdesk screenshot`: the desktop app, and its start-up checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from intentdesk.cli.output import print_err
from intentdesk.core.errors import AudioError, DatasetError, IntentDeskError


def cmd_gui(args: argparse.Namespace) -> int:
    """The app; `intentdesk --dataset D` works like `intentdesk gui --dataset D` (same for --model, --fake-mic,
    --carried). An app made with export-app (its marker beside the executable, or --carried) opens on
    Classify only, with the model it carries."""
    dataset, model, fake_mic, carried_dir = (getattr(args, name, None) or getattr(args, f"app_{name}")
                                             for name in ("dataset", "model", "fake_mic", "carried"))
    check_app_inputs(dataset, model, fake_mic)
    from intentdesk.core.packaging.carried import find_carried

    carried = find_carried(carried_dir)  # a damaged marker is one error line before any window
    from intentdesk.gui.app import run_app

    return run_app(dataset=dataset, model=model, fake_mic=fake_mic, carried=carried)


def check_app_inputs(dataset: str | None, model: str | None, fake_mic: str | None) -> None:
    """The app's start-up paths, checked before a window opens (it would skip a bad one silently). An empty
    folder as the dataset is a new dataset, made there (a newcomer makes the folder first)."""
    if dataset is not None:
        folder = Path(dataset).expanduser()
        if not folder.is_dir():
            raise DatasetError(f"{dataset}: dataset folder not found (give an empty folder for a new dataset)"
                               if not folder.exists() else f"{dataset}: is a file, not a dataset folder")
        if not (folder / "metadata.csv").is_file() and any(folder.iterdir()):  # empty: a new dataset there
            raise DatasetError(f"{dataset}: not a dataset folder (no metadata.csv); choose one made by "
                               "IntentDesk (intentdesk import)")
    if model is not None:
        from intentdesk.core.models.model_files import check_classifier_folder

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


def cmd_export_app(args: argparse.Namespace) -> int:
    """One file that opens on Classify with the model, for someone who will never train: progress on
    stderr, the file and its size on stdout."""
    from intentdesk.core.files import stop_when_disk_full
    from intentdesk.core.json_files import size_text
    from intentdesk.core.packaging.export_app import export_app

    target = Path(args.out).expanduser().absolute()
    with stop_when_disk_full(target.parent, f"nothing was written to {target}"):
        out = export_app(args.model, target, Path(args.app_folder) if args.app_folder else None,
                         on_event=ProgressLines())
    print(f"{out}  ({size_text(out.stat().st_size)}): unpack it and open IntentDesk in it (or its .desktop entry)")
    return 0


class ProgressLines:
    """A job's progress events as lines on stderr: each new step, and the writing every tenth of the way."""

    def __init__(self) -> None:
        self.last_text, self.last_tenth = "", -1

    def __call__(self, event) -> None:
        text, fraction = getattr(event, "stage", ""), getattr(event, "fraction", None)
        tenth = int(fraction * 10) if fraction is not None and getattr(event, "step", None) is not None else None
        if tenth is not None:
            if tenth > self.last_tenth:
                self.last_tenth = tenth
                print_err(text)
        elif text and text != self.last_text:
            print_err(text)
        self.last_text = text


def add_parsers(sub) -> None:
    p = sub.add_parser("screenshot", help="render a tab of the window to a PNG")
    p.add_argument("--tab", choices=["label", "train", "classify"], default="label")
    p.add_argument("out")
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--fake-mic", metavar="WAV", help="replay this file as the microphone")
    p.set_defaults(func=cmd_screenshot)

    p = sub.add_parser("gui", help="open the desktop app (the default)")
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--fake-mic", metavar="WAV", help="replay this file as the microphone (demos, checks)")
    p.add_argument("--carried", metavar="DIR", help="open an app made with export-app (Classify only)")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("export-app", help="one file that opens on Classify with this model, for someone "
                       "who will never train (a copy of the packaged app with the model in it)")
    p.add_argument("model", help="a trained model folder")
    p.add_argument("out", help="the file to write (.tar.zst or .tar.gz; added when missing)")
    p.add_argument("--app-folder", metavar="DIR", help="the packaged IntentDesk to copy (default: this one when "
                   "packaged, else dist/IntentDesk, built with scripts/build.sh when missing)")
    p.set_defaults(func=cmd_export_app)
