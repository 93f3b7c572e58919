"""How torch's worker threads wait for work: decided once, before torch loads, for every command.

torch runs its CPU kernels on an OpenMP thread pool. By default (libgomp, which the torch wheels
use on Linux, and LLVM/Intel OpenMP elsewhere) a worker that finishes its share of a kernel spins
on the core for a while, waiting for the next one. On a quiet machine that saves a wake-up; on a
busy one the spinning workers hold cores that the thread with the next piece of work needs, and a
run of many small kernels (Quick mode's head steps, a Whisper decoder step) waits a scheduler
time slice at every kernel. Measured (BENCHMARKS.md, "Busy machines"): warm Quick training took
49.6 s with the default waiting and 8.8 s with passive waiting on a 2-core machine that other jobs
kept busy. Passive waiting (a worker sleeps as soon as it has nothing to do) is understood by
every OpenMP runtime under the same standard variable, so this does not depend on the CPU.

The variable is read when the OpenMP runtime starts (the first torch import), so `prepare_process`
runs first thing in `intentdesk.entry.main`, which the console script, `python -m intentdesk`, the
frozen app and the service (it runs in the same process) all start from. A value the person set
is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

WAITING = {"OMP_WAIT_POLICY": "PASSIVE"}


def prepare_process(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set passive OpenMP waiting unless the person chose otherwise; call before torch is imported."""
    for name, value in WAITING.items():
        environ.setdefault(name, value)
