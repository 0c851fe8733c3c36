"""scripts/demo.sh asks demo_manifest.py for the demo's dialogue ids, then for the manifest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "zh_corpus" / "demo_manifest.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_ids_need_no_manifest_path_and_name_corpus_dialogues() -> None:
    result = _run("--ids")
    assert result.returncode == 0, result.stderr
    ids = result.stdout.split()
    assert len(ids) >= 8
    known = {p.stem for p in (ROOT / "corpus" / "zh" / "dialogues").glob("*.yaml")}
    assert set(ids) <= known


def test_without_ids_the_manifest_path_is_required() -> None:
    result = _run()
    assert result.returncode == 2
    assert "out" in result.stderr
