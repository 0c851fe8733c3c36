"""The scoring package stays framework-free (ARCHITECTURE.md: no flask, celery or torch)."""

from __future__ import annotations

import subprocess
import sys


def test_scoring_imports_no_flask_celery_or_torch() -> None:
    code = (
        "import sys\n"
        "import scoring.sample_size, scoring.sampling, scoring.plan, scoring.scorecard\n"
        "import scoring.calendar, scoring.workflow, scoring.calibration, scoring.assignment\n"
        "import scoring.services\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'celery', 'torch'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
