"""Entry point of the frozen app (PyInstaller runs this file as `__main__`)."""

import multiprocessing

from intentdesk.entry import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch/datasets may spawn helpers; frozen apps need this
    raise SystemExit(main())
