"""``python -m bench.scaleout --quick`` in the suite: every comparison keeps producing figures.

Never a speed check (quick figures mean nothing): the shape of the JSON, and that each side
did the same work (the harness compares row counts sample by sample).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from servers import require_pgbouncer

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_scaleout_quick_writes_every_comparison(tmp_path: Path) -> None:
    require_pgbouncer()
    done = subprocess.run([sys.executable, "-m", "bench.scaleout", "--quick", "--out",
                           str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    (result_file,) = tmp_path.glob("scaleout-*.json")
    result = json.loads(result_file.read_text())
    pairs = {(r["comparison"], r["path"]) for r in result["comparisons"]}
    assert pairs == {("replica", "top_clips"), ("replica", "campaign_month"),
                     ("ryw", "update_campaign_metrics"),
                     ("pgbouncer", "auth"), ("pgbouncer", "top_clips"),
                     ("unnamed", "auth"), ("unnamed", "top_clips")}
    for row in result["comparisons"]:
        assert row["measured"]["median_us"] > 0
        assert row["baseline"]["p99_us"] >= row["baseline"]["median_us"]
        assert row["ratio"] > 0
