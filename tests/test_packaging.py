"""What the packaged app relies on, checked unfrozen: the self-test, safe streams, user folders; and that
pyproject.toml declares what the code imports, with constraint files that agree with it."""

import ast
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from intentdesk import paths


def test_self_test_trains_classifies_and_reports_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "intentdesk", "--self-test"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("IntentDesk self-test OK")
    assert "as 'high'" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing left in the working folder


def test_windowed_app_without_standard_streams_can_still_print():
    code = ("import sys; sys.stdout = None; sys.stderr = None\n"
            "from intentdesk.paths import prepare_process; prepare_process()\n"
            "print('hello'); import warnings; warnings.warn('x')\n"
            "from intentdesk.cli.output import print_err; print_err('fine')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_frozen_app_keeps_the_hub_cache_in_the_user_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("INTENTDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    paths.prepare_process()
    assert os.environ["HF_HOME"] == str(tmp_path / "home" / "huggingface")
    assert paths.datasets_home() == tmp_path / "home" / "datasets" and paths.datasets_home().is_dir()
    monkeypatch.delenv("HF_HOME")


# ------------------------------------------------------------------------------ declared dependencies
ROOT = Path(__file__).resolve().parent.parent
# Declared for what they do at run time, not imported (pyproject.toml says why).
NOT_IMPORTED = {"pandas", "python-multipart"}
# Extras for the tests and the benchmarks: they do not count as declaring what intentdesk/ imports.
DEVELOPMENT_EXTRAS = {"test", "bench"}


def _project() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def _third_party_imports(folder: Path) -> dict[str, set[str]]:
    """Top-level module -> files importing it, over every import in `folder` (those inside functions too),
    leaving out the standard library and the project's own modules."""
    own = {"intentdesk", "tests", *(p.stem for p in folder.rglob("*.py"))}  # conftest, helpers...
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for top in {m.split(".")[0] for m in modules} - own - set(sys.stdlib_module_names):
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _distributions(top: str) -> set[str]:
    """The installed distributions that provide the top-level module `top` (none when it is missing)."""
    return {canonicalize_name(d) for d in metadata.packages_distributions().get(top, [])}


def _undeclared(folder: Path, declared: set[str]) -> list[str]:
    problems = []
    for top, files in sorted(_third_party_imports(folder).items()):
        distributions = _distributions(top)
        if not distributions & declared:
            what = "/".join(sorted(distributions)) or "not installed"
            problems.append(f"{top} ({what}) imported by {', '.join(sorted(files))}")
    return problems


def test_every_distribution_intentdesk_imports_is_declared():
    project = _project()
    extras = [r for name, reqs in project["optional-dependencies"].items() if name not in DEVELOPMENT_EXTRAS
              for r in reqs]
    assert _undeclared(ROOT / "intentdesk", _names(project["dependencies"] + extras)) == []


def test_every_distribution_the_tests_import_is_declared():
    project = _project()
    declared = _names(project["dependencies"] + project["optional-dependencies"]["test"])
    assert _undeclared(ROOT / "tests", declared) == []


def test_every_declared_dependency_is_imported_or_says_why_not():
    imported = set().union(*map(_distributions, _third_party_imports(ROOT / "intentdesk")))
    assert _names(_project()["dependencies"]) - imported - NOT_IMPORTED == set()


def _pins(name: str) -> dict[str, Version]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def _requirements() -> list[Requirement]:
    project = _project()
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


@pytest.mark.parametrize("name", ["constraints.txt", "constraints-lowest.txt"])
def test_constraint_files_pin_every_requirement_within_its_bounds(name):
    pins = _pins(name)
    wrong = [f"{r}: {pins.get(canonicalize_name(r.name), 'not pinned')}" for r in _requirements()
             if not r.specifier.contains(pins.get(canonicalize_name(r.name), Version("0")), prereleases=True)]
    assert wrong == [], f"{name} disagrees with pyproject.toml; run `make constraints`"


def test_lowest_constraints_pin_each_floor():
    """`make test-lowest` tests the floors pyproject.toml claims, not some later release."""
    pins = _pins("constraints-lowest.txt")
    above = [f"{r}: {pins[canonicalize_name(r.name)]}" for r in _requirements() for s in r.specifier
             if s.operator in (">=", "~=", "==") and pins[canonicalize_name(r.name)] != Version(s.version)]
    assert above == [], "constraints-lowest.txt is not at the floors; run `make constraints`"
