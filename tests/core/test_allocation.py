"""Large blocks are kept for reuse (glibc) and asked for as huge pages (torch), unless the person chose otherwise."""

import subprocess
import sys

from intentdesk.core.allocation import KEEP_BYTES, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, glibc, prepare_allocation


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


def test_large_blocks_are_kept_and_asked_for_as_huge_pages():
    environ: dict[str, str] = {}
    libc = FakeLibc()
    prepare_allocation(environ, libc)
    assert environ == {"THP_MEM_ALLOC_ENABLE": "1"}
    assert sorted(libc.calls) == sorted([(M_MMAP_THRESHOLD, KEEP_BYTES), (M_TRIM_THRESHOLD, KEEP_BYTES)])


def test_the_persons_own_settings_are_kept():
    libc = FakeLibc()
    chosen = {"MALLOC_TRIM_THRESHOLD_": "0"}
    prepare_allocation(chosen, libc)
    assert chosen == {"MALLOC_TRIM_THRESHOLD_": "0"}  # no huge pages alone either: alone they were slower
    assert libc.calls == []  # glibc was told by the person's variable at start
    no_huge_pages = {"THP_MEM_ALLOC_ENABLE": "0"}
    prepare_allocation(no_huge_pages, libc)
    assert no_huge_pages == {"THP_MEM_ALLOC_ENABLE": "0"} and len(libc.calls) == 2


def test_without_glibc_nothing_changes(monkeypatch):
    from intentdesk.core import allocation

    monkeypatch.setattr(allocation, "glibc", lambda: None)
    environ: dict[str, str] = {}
    prepare_allocation(environ)
    assert environ == {}


def test_the_real_c_library_accepts_the_settings():
    libc = glibc()
    if sys.platform.startswith("linux"):
        assert libc is not None
    if libc is not None:  # in a child process: the test run's own allocator is left as it was
        script = ("from intentdesk.core.allocation import *\nl = glibc()\n"
                  "print(l.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES), l.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.stdout.split() == ["1", "1"], done.stderr  # mallopt returns 1 when it took the value
