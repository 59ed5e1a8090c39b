"""``make bench-quick`` in the test suite: the bench must keep producing every figure.

It runs ``python -m bench --quick`` (a 50-user data set, a few samples per hot path) against
this test's fresh database, twice, and checks the outputs' shape. It never checks a speed:
quick figures mean nothing, and a loaded CI machine must not fail the suite.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent

# The hot paths, by their key in the JSON result.
HOT_PATHS = {"auth", "top_clips", "whale_day", "campaign_month", "list_assets", "create_clip",
             "update_campaign_metrics", "create_clips", "campaign_stats", "iter_conversions"}
THROUGHPUT_PATHS = {"auth", "top_clips"}
# The scans whose generic plans' server time is reported.
SERVER_PATHS = {"whale_day", "campaign_month", "iter_conversions"}


def _run_bench(database_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    # A subprocess runs exactly what `make bench-quick` runs, argument parsing included; the
    # checkout is its working directory, as bench/ is not part of the installed package.
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--database-url", database_url,
         "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _check_figures(result: dict[str, Any]) -> None:
    for key in ("git", "machine", "versions", "scale", "load", "comparison"):
        assert result[key], key
    assert set(result["hot_paths"]) == HOT_PATHS
    for name, path in result["hot_paths"].items():
        for side in ("gatewaydb", "floor", "floor_noreset", "validated"):
            assert _positive(path[side]["median_us"]), (name, side)
            assert _positive(path[side]["p99_us"]), (name, side)
            assert path[side]["samples"] >= 1, (name, side)
        for ratio in ("ratio", "ratio_noreset", "validated_ratio"):
            assert _positive(path[ratio]), (name, ratio)
    assert set(result["server"]) == SERVER_PATHS
    for name, times in result["server"].items():
        for side in ("gatewaydb", "floor"):
            assert _positive(times[side]["median_us"]), (name, side)
            assert times[side]["buffers"] >= 1, (name, side)
    assert set(result["throughput"]) == THROUGHPUT_PATHS
    for name, rate in result["throughput"].items():
        assert _positive(rate["gatewaydb_ops_s"]), name
        assert _positive(rate["floor_ops_s"]), name
        assert _positive(rate["floor_noreset_ops_s"]), name
        assert rate["concurrency"] == 16, name
        assert rate["pool_size"] == 10, name
    streamed = result["iter_conversions"]
    assert _positive(streamed["gatewaydb_rows_s"])
    assert _positive(streamed["floor_rows_s"])
    for size in ("short", "whole"):
        assert _positive(streamed["memory"][size]["gatewaydb_peak_bytes"]), size
        assert _positive(streamed["memory"][size]["floor_peak_bytes"]), size


def test_quick_bench_produces_every_figure(database_url: str, tmp_path: Path) -> None:
    first = _run_bench(database_url, tmp_path)
    (json_path,) = tmp_path.glob("*.json")
    assert json_path.with_suffix(".png").stat().st_size > 0
    result = json.loads(json_path.read_text())
    _check_figures(result)
    assert result["load"]["reused"] is False
    assert result["comparison"]["previous"] is None
    assert all(p["title"] in first.stdout for p in result["hot_paths"].values())

    # A second run reuses the loaded data set and compares itself with the first.
    _run_bench(database_url, tmp_path)
    (second_path,) = set(tmp_path.glob("*.json")) - {json_path}
    second = json.loads(second_path.read_text())
    _check_figures(second)
    assert second["load"]["reused"] is True
    assert second["comparison"]["previous"] == json_path.name
    assert set(second["comparison"]["paths"]) == HOT_PATHS
    assert isinstance(second["comparison"]["regressions"], list)
