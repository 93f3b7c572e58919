"""`intentdesk gui` (also: no command) and `intentdesk screenshot`: the desktop app, and its start-up checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from intentdesk.core.errors import AudioError, DatasetError, IntentDeskError


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
    p.set_defaults(func=cmd_gui)
