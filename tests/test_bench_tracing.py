"""``python -m bench.tracing --quick`` in the suite: the tracing bench keeps producing figures.

Never a speed check (quick figures mean nothing): the shape of the JSON, every side timed,
and that the traced sides really exported spans while the others exported none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
SIDES = {"off", "api only", "spans", "spans+metrics"}


def test_tracing_quick_times_every_side(tmp_path: Path, database_url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bench.tracing", "--quick", "--database-url",
                           database_url, "--out", str(tmp_path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    (result_file,) = tmp_path.glob("tracing-*.json")
    result = json.loads(result_file.read_text())
    assert [row["path"] for row in result["paths"]] == ["auth", "top_clips"]
    for row in result["paths"]:
        assert set(row["sides"]) == SIDES
        for timing in row["sides"].values():
            assert timing["median_us"] > 0
            assert timing["p99_us"] >= timing["median_us"]
        assert set(row["ratios"]) == SIDES - {"off"}
        assert all(r["median"] > 0 for r in row["ratios"].values())
        spans = row["spans_exported"]
        assert spans["off"] == spans["api only"] == 0
        # One span per call: warm-up and samples alike, on both traced sides.
        assert spans["spans"] == spans["spans+metrics"] >= row["sides"]["spans"]["samples"]
    assert "spans+metrics" in done.stdout
