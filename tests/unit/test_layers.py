"""The package rules of ARCHITECTURE.md, checked on what importing each package really loads."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Charts and spreadsheets are drawn by ``scoring.reports`` on demand: importing the core never
# loads matplotlib or openpyxl (workers and the CLI compute reports without drawing them).
RENDERING = {"matplotlib", "openpyxl"}
FORBIDDEN = {
    "qa_platform": {"flask", "celery", "torch"} | RENDERING,
    "storage": {"flask", "torch"} | RENDERING,
    "scoring": {"flask", "celery", "torch"} | RENDERING,
    "web": {"torch", "faster_whisper", "pyannote"},
}


def modules(package: str) -> list[str]:
    """Every module of ``package`` (Alembic scripts excluded: Alembic runs them, nobody imports)."""
    found = pkgutil.walk_packages([str(ROOT / package)], f"{package}.")
    return [package] + [m.name for m in found if not m.name.startswith("storage.migrations")]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_importing_a_package_loads_none_of_its_forbidden_frameworks(package: str) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {modules(package)!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(FORBIDDEN[package])!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"{package} loads {out.stdout.strip()}"


PACKAGES = ("qa_platform", "scoring", "storage", "web", "workers")
MAX_MODULE_LINES = 500  # issue 10: a module that grows past this is split along its seams


def test_no_package_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
