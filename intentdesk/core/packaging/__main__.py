"""`python -m intentdesk.core.packaging models|linux`: the steps of scripts/build.sh after PyInstaller.

    models APP [DIR...]   put the model folders DIR into the frozen app folder APP (none: take them out)
    linux APP OUT         write the Linux artifacts of APP into OUT (.tar.zst and .deb), print their sizes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from intentdesk import __version__
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.packaging.bundle_models import bundle_models
from intentdesk.core.packaging.deb import build_deb
from intentdesk.core.packaging.linux import ZSTD_LEVEL, linux_tarball

NAME = "IntentDesk"
SUMMARY = "Speech intent classification: label, train and classify spoken clips"
ICON = Path(__file__).resolve().parents[3] / "resources" / "icon.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intentdesk.core.packaging", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    models = steps.add_parser("models")
    models.add_argument("app", type=Path)
    models.add_argument("folders", nargs="*", type=Path)
    linux = steps.add_parser("linux")
    linux.add_argument("app", type=Path)
    linux.add_argument("out", type=Path)
    linux.add_argument("--level", type=int, default=ZSTD_LEVEL,
                       help="zstd level (default 9; 19: 12 %% smaller, 37 times slower)")
    linux.add_argument("--icon", type=Path, default=ICON)
    args = parser.parse_args(argv)
    try:
        if args.step == "models":
            for repo_id, entry in bundle_models(args.folders, args.app).items():
                print(f"bundled {entry['role']}: {repo_id} -> {args.app}/models/{entry['folder']}")
            return 0
        made = [linux_tarball(args.app, args.out, name=NAME, version=__version__, icon=args.icon, comment=SUMMARY,
                              level=args.level),
                build_deb(args.app, args.out, name=NAME, package="intentdesk", version=__version__, icon=args.icon,
                          summary=SUMMARY, level=args.level)]
    except IntentDeskError as error:
        print(f"packaging failed: {error}", file=sys.stderr)
        return 2
    for path in made:
        print(f"artifact {path}: {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
