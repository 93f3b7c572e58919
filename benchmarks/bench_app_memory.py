"""Resident memory (RSS) of the app: idle with a dataset open, then idle with a model loaded.

    python benchmarks/bench_app_memory.py DATASET_DIR MODEL_DIR

Opens the real main window (offscreen), loads the model as the Classify tab does (in its
worker, with the fast-path choice), classifies one clip, lets the event loop idle for 3 s and
reads VmRSS from /proc (Linux).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("model")
    args = parser.parse_args()
    from PySide6.QtCore import QSettings

    from intentdesk.gui.app import _wait, build_window, make_application

    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat)
        window = build_window(args.dataset, None, settings)
        window.show()
        _wait(app, lambda: False, 3)
        before = rss_mb()
        classify = window.classify_tab
        target = Path(args.model).resolve()
        classify.open_model(target)
        _wait(app, lambda: classify.model_dir == target or classify.message.kind == "error", 120)
        done = []
        classify.batch_done.connect(lambda: done.append(True))
        classify.classify_files([window.store.path_of(window.store.clips[0])])
        _wait(app, lambda: bool(done), 60)
        _wait(app, lambda: False, 3)
        print(f"| {len(window.store)}-clip dataset open, no model | {before:.0f} MB |")
        print(f"| + model {target.name} loaded ({classify.classifier.precision}), one clip classified | "
              f"{rss_mb():.0f} MB |")
        classify.shutdown()
        window.close()


if __name__ == "__main__":
    main()
