"""Print `name==floor` for every requirement of pyproject.toml (dependencies and the test extra) that has a
lower bound: the versions `constraints-lowest.txt` starts from (see scripts/constraints.sh). Python 3.11+."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

LOWER_BOUND = re.compile(r"(?:>=|==|~=)\s*([0-9][^,;\s]*)")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirements(pyproject: Path) -> list[str]:
    """The main dependencies and the test extra (what `make setup` installs)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def floors(pyproject: Path) -> list[str]:
    pins = []
    for requirement in requirements(pyproject):
        bound = LOWER_BOUND.search(requirement.split(";")[0])
        if bound:
            pins.append(f"{NAME.match(requirement).group(1)}=={bound.group(1)}")
    return pins


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.stdout.write("".join(f"{pin}\n" for pin in floors(root / "pyproject.toml")))
