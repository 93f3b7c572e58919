"""The `intentdesk` command's first code: Ctrl-C at any moment ends it with one line, never a traceback.

The console script, `python -m intentdesk` and the frozen app all start here. `intentdesk.cli`
imports every command group, argparse and more; a Ctrl-C during those imports (the first half
second) would reach Python's default handler and print a raw KeyboardInterrupt traceback, because
`cli.main`'s own guard is not running yet. Nothing heavy is imported before the guard here; the first
thing inside it sets how torch's threads wait (`core.threads`) and how the process gets memory
(`core.allocation`), which must happen before torch loads.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # what shells report for a command ended by Ctrl-C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    try:
        from intentdesk.core.allocation import prepare_allocation
        from intentdesk.core.threads import prepare_process

        prepare_process()  # before anything imports torch: how its worker threads wait
        prepare_allocation()  # and how it gets memory for large tensors
        from intentdesk.cli import main as run

        return run(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return INTERRUPTED
