"""What each dependency weighs inside the frozen app (issue 21): uncompressed, and compressed the way the
artifact is (tar | zstd -19 --long=27), as a Markdown table for BENCHMARKS.md.

    .venv/bin/python benchmarks/bundle_sizes.py dist/IntentDesk [--level 19]

Entries of `_internal/` are grouped by the package they belong to (`scipy.libs` with scipy, a package's
.dist-info with it, the Qt libraries with PySide6); the executable holds the archive of Python code.
Groups under 5 MB are added up as "others". Each group is compressed on its own (so the total is a
little above the artifact's, which shares one window across groups).
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import defaultdict
from pathlib import Path

MB = 1e6
ALIASES = {"PySide6": "PySide6 (Qt)", "shiboken6": "PySide6 (Qt)", "pyarrow": "pyarrow (datasets)",
           "datasets": "pyarrow (datasets)", "torch": "torch", "functorch": "torch", "sklearn": "scikit-learn"}
SMALL = 5 * MB


def group_of(name: str) -> str:
    """The package an entry of _internal/ belongs to: `scipy.libs`, `scipy-1.17.dist-info` -> scipy."""
    base = re.split(r"[.-]", name, maxsplit=1)[0]
    if name.startswith("lib") and ".so" in name:
        base = "shared libraries (libpython, libstdc++...)"
    return ALIASES.get(base, base)


def size_of(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def compressed(root: Path, names: list[str], level: int) -> int:
    tar = subprocess.Popen(["tar", "-cf", "-", "-C", str(root), *names], stdout=subprocess.PIPE)
    packed = subprocess.run(["zstd", "-q", f"-{level}", "--long=27", "-T0", "-c"], stdin=tar.stdout,
                            capture_output=True, check=True)
    tar.wait()
    return len(packed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", type=Path)
    parser.add_argument("--level", type=int, default=19)
    args = parser.parse_args()
    internal = args.app / "_internal"
    groups: dict[str, list[Path]] = defaultdict(list)
    for entry in sorted(internal.iterdir()):
        groups[group_of(entry.name)].append(entry)
    for entry in sorted(args.app.iterdir()):
        if entry.name != "_internal":
            groups["Python code (executable + PYZ)" if entry.name == "IntentDesk" else entry.name].append(entry)
    sizes = {name: sum(size_of(p) for p in entries) for name, entries in groups.items()}
    big = sorted((n for n in sizes if sizes[n] >= SMALL), key=lambda n: -sizes[n])
    rows = [(n, [p.relative_to(args.app).as_posix() for p in groups[n]]) for n in big]
    rows.append(("others (each < 5 MB)", [p.relative_to(args.app).as_posix()
                                          for n in sizes if sizes[n] < SMALL for p in groups[n]]))
    print(f"| part | uncompressed MB | zstd -{args.level} --long MB |\n|---|---:|---:|")
    total = total_packed = 0
    for name, members in rows:
        raw = sum(size_of(args.app / m) for m in members)
        packed = compressed(args.app, members, args.level) if members else 0
        total, total_packed = total + raw, total_packed + packed
        print(f"| {name} | {raw / MB:.1f} | {packed / MB:.1f} |", flush=True)
    print(f"| **total** | **{total / MB:.1f}** | **{total_packed / MB:.1f}** |")


if __name__ == "__main__":
    main()
