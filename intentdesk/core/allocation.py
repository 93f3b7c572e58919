"""How the process gets memory for large tensors: decided once, before torch loads, for every command.

A 3-8 s clip makes tensors of 20-120 MB in a speech model's first layers (10,000-40,000 frames of 512
channels). glibc hands out blocks that large as fresh `mmap`s (its threshold adapts, but never past 32 MB)
and unmaps them when they are freed, so the kernel fills the next one page by page again. Two settings
together stop that:

- glibc: blocks up to `KEEP_BYTES` come from the heap and freed memory up to that size is kept for the
  next pass (`mallopt`); the process then holds on to up to that much memory it no longer uses.
- torch: large blocks are asked for as transparent huge pages (`THP_MEM_ALLOC_ENABLE`, where the kernel
  offers them on request), 512 times fewer faults; this also covers worker threads, whose glibc arenas
  map large blocks anyway.

Measured on a 2-core AMD EPYC (Zen 3, AVX2 only; BENCHMARKS.md 15). GELU over 39,999 x 512 frames: 62-71 ms
with 20,000 page faults per call by default; 47-50 ms and 12,000-14,000 faults with glibc's setting alone;
23-24 ms and none with both. An int8 Wav2Vec2-base pass of an 8 s clip in a process that runs another
model too (a `pipeline`, measured; in the app the words part's recogniser and encoder, not measured), whose
other sizes keep glibc's threshold from settling: 969-1,239 ms by default, 873-990 ms with both. A process
that runs only that model settles with no faults by default, and there both change nothing (894-904 against
863-895 ms; torch's huge pages alone made it slower, 971-1,021 ms, so they are not set alone).

A person's own settings are kept: with `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_` set, nothing is
changed, and their `THP_MEM_ALLOC_ENABLE` wins; on other C libraries and systems nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import MutableMapping

KEEP_BYTES = 256 * 1024 * 1024
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
PERSON_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (the one with `mallopt` and these parameters), else None."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        process = ctypes.CDLL(None)  # the symbols already loaded: the C library the interpreter runs on
        process.gnu_get_libc_version  # noqa: B018 - only glibc has it
        return process
    return None


def prepare_allocation(environ: MutableMapping[str, str] = os.environ, libc: ctypes.CDLL | None = None) -> None:
    """Keep large blocks for reuse and ask for huge pages (see module doc); call before torch is imported.
    Huge pages only together with glibc's setting: alone they made a pass slower."""
    if any(name in environ for name in PERSON_SETTINGS):
        return
    libc = libc or glibc()
    if libc is None:
        return
    libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)
    libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)
    environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
