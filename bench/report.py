"""The run's outputs: the JSON result, the comparison with the previous one, the stdout table.

A result is ``<out>/<UTC time>-<commit>.json`` (its chart, :mod:`bench.chart`, sits next to it
as ``.png``). The comparison looks for the newest earlier result in the same folder at the
same scale and flags every hot path whose gatewaydb/floor ratio grew by more than
:data:`REGRESSION` (10 %): comparing ratios, not raw medians, cancels out a slower or busier
machine, since the floor ran in the same run under the same conditions.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from .datagen import schema_fingerprint
from .dataset import GENERATOR_VERSION, Scale
from .harness import Budget
from .paths import REPO_ROOT
from .runner import RunResult

__all__ = ["REGRESSION", "build_result", "compare", "format_table", "result_path",
           "write_json"]

#: A ratio more than this much worse than the previous run's is flagged.
REGRESSION: Final = 0.10
#: The JSON layout; bump when a field changes meaning. 2: hand-written floors (the SQL of
#: bench.handwritten, not gatewaydb's), a no-reset floor, a validated floor, server times;
#: a path's and a throughput's ``target`` were added later (absent: none).
FORMAT: Final = 2


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""
    commit = git("rev-parse", "HEAD")
    return {"commit": commit or None, "short": commit[:8] or "nogit",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def _machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "memory_bytes": memory, "hostname": platform.node()}


def _versions(server_version: str) -> dict[str, str]:
    versions = {"python": platform.python_version(), "postgresql": server_version}
    for package in ("gatewaydb", "asyncpg", "pydantic", "pydantic-core", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _iter_figures(run: RunResult) -> dict[str, Any] | None:
    path = next((p for p in run.paths if p.name == "iter_conversions"), None)
    if path is None:  # --only left it out
        return None
    short, whole = run.memory["short"], run.memory["whole"]

    def growth(side: str) -> float:
        peaks = [int(getattr(m, f"{side}_peak_bytes")) for m in (short, whole)]
        return peaks[1] / max(1, peaks[0])

    return {
        "rows": path.rows,
        "gatewaydb_rows_s": path.rows / (path.gatewaydb.median_us / 1e6),
        "floor_rows_s": path.rows / (path.floor.median_us / 1e6),
        "floor_noreset_rows_s": path.rows / (path.floor_noreset.median_us / 1e6),
        "validated_rows_s": path.rows / (path.validated.median_us / 1e6),
        "memory": {
            "short": asdict(short), "whole": asdict(whole),
            # Peak memory of the whole whale over that of its first ~10,000 rows: about 1
            # when streaming keeps memory flat, about rows(whole)/rows(short) when it does not.
            "gatewaydb_growth": growth("gatewaydb"), "floor_growth": growth("floor"),
            "flat": growth("gatewaydb") < 2,
        },
    }


def build_result(run: RunResult, scale: Scale, budget: Budget, *, quick: bool) -> dict[str, Any]:
    """Every figure of the run, with what is needed to reproduce and compare it."""
    return {
        "format": FORMAT,
        # Milliseconds: two quick runs in one second still compare in order.
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "quick": quick,
        "git": _git(),
        "machine": _machine(),
        "versions": _versions(run.server_version),
        "server_settings": run.server_settings,
        "scale": scale.counts(),
        # Results compare only over the same generated data (see _previous).
        "dataset": {"generator": GENERATOR_VERSION, "schema": schema_fingerprint()},
        "budget": asdict(budget),
        "load": asdict(run.load),
        "hot_paths": {p.name: asdict(p) for p in run.paths},
        "server": {name: {side: asdict(t) for side, t in times.items()}
                   for name, times in run.server.items()},
        "throughput": {t.name: asdict(t) for t in run.throughput},
        "iter_conversions": _iter_figures(run),
    }


def result_path(out: Path, result: dict[str, Any]) -> Path:
    """``<out>/<UTC time>-<commit>.json``, made unique if a run in the same second wrote one."""
    stamp = datetime.fromisoformat(result["created_at"]).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{stamp}-{result['git']['short']}.json"
    number = 1
    while path.exists():
        number += 1
        path = out / f"{stamp}-{result['git']['short']}-{number}.json"
    return path


def _previous(out: Path, current: dict[str, Any]) -> tuple[Path, dict[str, Any]] | None:
    """The newest earlier result in ``out`` on the same data (scale, generator) and mode.

    A schema change does not prevent the comparison: the floor runs on the same schema, so
    the ratios stay comparable, and a migration that slows gatewaydb down should be flagged.
    """
    for path in sorted(out.glob("*.json"), reverse=True):
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if (old.get("format") == FORMAT and old.get("scale") == current["scale"]
                and old.get("dataset", {}).get("generator") == GENERATOR_VERSION
                and old.get("quick") == current["quick"]
                and old.get("created_at", "") < current["created_at"]):
            return path, old
    return None


def compare(out: Path, result: dict[str, Any]) -> dict[str, Any]:
    """The ratio of every hot path next to the previous result's; regressions flagged."""
    found = _previous(out, result)
    if found is None:
        return {"previous": None, "paths": {}, "regressions": []}
    path, old = found
    paths: dict[str, Any] = {}
    for name, now in result["hot_paths"].items():
        before = old["hot_paths"].get(name)
        if before is None:
            continue
        change = now["ratio"] / before["ratio"] - 1
        change_noreset = now["ratio_noreset"] / before["ratio_noreset"] - 1
        paths[name] = {"previous_ratio": before["ratio"], "ratio": now["ratio"],
                       "change": change, "previous_ratio_noreset": before["ratio_noreset"],
                       "ratio_noreset": now["ratio_noreset"], "change_noreset": change_noreset,
                       "regression": max(change, change_noreset) > REGRESSION}
    return {"previous": path.name, "previous_commit": old["git"]["short"], "paths": paths,
            "regressions": sorted(n for n, p in paths.items() if p["regression"])}


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a crash never leaves a truncated result for the next comparison.
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(result, indent=2, sort_keys=False, default=str) + "\n")
    partial.replace(path)


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _target(ratio: float, target: float | None, *, at_most: bool) -> str:
    """``<= 1.15 met`` / ``>= 1.30 MISSED``: the ratio against the issue's goal."""
    if target is None:
        return ""
    met = ratio <= target if at_most else ratio >= target
    return f"{'<=' if at_most else '>='}{target:.2f} {'met' if met else 'MISSED'}"


def format_table(result: dict[str, Any]) -> str:
    """The human-readable report printed on stdout."""
    git, scale, versions = result["git"], result["scale"], result["versions"]
    lines = [
        f"gatewaydb bench  {result['created_at']}  commit {git['short']}"
        f"{' (uncommitted changes)' if git['dirty'] else ''}",
        f"  {scale['users']:,} users, {scale['clips']:,} clips, "
        f"{scale['conversions'] + scale['whale_conversions']:,} conversions  |  "
        f"PostgreSQL {versions['postgresql']}, asyncpg {versions['asyncpg']}, "
        f"pydantic {versions['pydantic']}, Python {versions['python']}, "
        f"{result['machine']['cores']} cores",
        f"  data set {'reused' if result['load']['reused'] else 'loaded'} "
        f"(load took {result['load']['seconds']:.1f} s)",
        "",
        "floor: hand-written SQL, default asyncpg pool;  no reset: the same, reset=no-op;  "
        "validated: floor + model_validate(dict(r)) per row",
        f"{'latency (µs)':<48}{'gatewaydb':>20}{'floor':>20}{'no reset':>20}"
        f"{'validated':>11}{'ratio':>8}{'no rst':>8}{'valid.':>8}{'spread':>8}{'n':>6}"
        f"{'target':>15}",
        f"{'':<48}{'median':>10}{'p99':>10}{'median':>10}{'p99':>10}{'median':>10}"
        f"{'p99':>10}{'median':>11}",
    ]
    for p in result["hot_paths"].values():
        gw, fl, nr, va = p["gatewaydb"], p["floor"], p["floor_noreset"], p["validated"]
        lines.append(
            f"{p['title']:<48}{_us(gw['median_us']):>10}{_us(gw['p99_us']):>10}"
            f"{_us(fl['median_us']):>10}{_us(fl['p99_us']):>10}{_us(nr['median_us']):>10}"
            f"{_us(nr['p99_us']):>10}{_us(va['median_us']):>11}{p['ratio']:>7.2f}x"
            f"{p['ratio_noreset']:>7.2f}x{p['validated_ratio']:>7.2f}x{p['spread']:>8.1%}"
            f"{gw['samples']:>6}{_target(p['ratio'], p.get('target'), at_most=True):>15}")
    if result["server"]:
        lines += ["", f"{'server time, generic plans (µs, EXPLAIN ANALYZE)':<52}"
                      f"{'gatewaydb':>12}{'buffers':>9}{'floor':>12}{'buffers':>9}  plan"]
    for name, times in result["server"].items():
        g, f = times["gatewaydb"], times["floor"]
        lines.append(f"{result['hot_paths'][name]['title'][:51]:<52}{_us(g['median_us']):>12}"
                     f"{g['buffers']:>9}{_us(f['median_us']):>12}{f['buffers']:>9}  "
                     f"{g['scan']} / {f['scan']}")
    rates = list(result["throughput"].values())
    if rates:
        header = (f"throughput (ops/s, {rates[0]['concurrency']} tasks, pool of "
                  f"{rates[0]['pool_size']})")
        lines += ["", f"{header:<48}{'gatewaydb':>12}{'floor':>12}{'no reset':>12}"
                      f"{'ratio':>8}{'no rst':>8}{'target':>15}"]
    for t in rates:
        lines.append(f"{result['hot_paths'][t['name']]['title'][:47]:<48}"
                     f"{t['gatewaydb_ops_s']:>12,.0f}{t['floor_ops_s']:>12,.0f}"
                     f"{t['floor_noreset_ops_s']:>12,.0f}{t['ratio']:>7.2f}x"
                     f"{t['ratio_noreset']:>7.2f}x"
                     f"{_target(t['ratio'], t.get('target'), at_most=False):>15}")
    it = result["iter_conversions"]
    memory = it["memory"] if it else None
    lines += [] if it is None or memory is None else [
        "",
        f"iter_conversions over the whale campaign ({it['rows']:,} rows): "
        f"gatewaydb {it['gatewaydb_rows_s']:,.0f} rows/s, floor {it['floor_rows_s']:,.0f} "
        f"rows/s, validated floor {it['validated_rows_s']:,.0f} rows/s",
        f"  peak memory, {memory['short']['rows']:,} rows: gatewaydb "
        f"{memory['short']['gatewaydb_peak_bytes'] / 1e6:.1f} MB, floor "
        f"{memory['short']['floor_peak_bytes'] / 1e6:.1f} MB;  {memory['whole']['rows']:,} rows: "
        f"gatewaydb {memory['whole']['gatewaydb_peak_bytes'] / 1e6:.1f} MB, floor "
        f"{memory['whole']['floor_peak_bytes'] / 1e6:.1f} MB  -> "
        f"{'flat' if memory['flat'] else 'NOT FLAT'} (x{memory['gatewaydb_growth']:.2f})",
    ]
    lines += ["", *_format_comparison(result["comparison"], result["quick"])]
    return "\n".join(lines)


def _format_comparison(comparison: dict[str, Any], quick: bool) -> list[str]:
    if comparison["previous"] is None:
        return ["no previous result on the same data set to compare with"]
    lines = [f"vs {comparison['previous']} (ratio to floor, then now; to the no-reset floor):"]
    if quick:
        lines.append("  (quick run: a few samples each, so these changes are noise)")
    for name, c in comparison["paths"].items():
        flag = "  REGRESSION (> +10%)" if c["regression"] else ""
        lines.append(f"  {name:<26}{c['previous_ratio']:>6.2f}x ->{c['ratio']:>6.2f}x "
                     f"({c['change']:+.1%});  {c['previous_ratio_noreset']:>6.2f}x ->"
                     f"{c['ratio_noreset']:>6.2f}x ({c['change_noreset']:+.1%}){flag}")
    if comparison["regressions"]:
        lines.append(f"{len(comparison['regressions'])} hot path(s) got more than 10% worse "
                     "relative to the floor: " + ", ".join(comparison["regressions"]))
    else:
        lines.append("no hot path got more than 10% worse relative to the floor")
    return lines
