"""Server-side time of the scans: ``EXPLAIN (ANALYZE, BUFFERS)`` of each statement's generic plan.

A prepared statement (asyncpg's cache, hence gatewaydb and the floors) settles on its generic
plan after five executions whenever that plan does not look costlier than the custom ones, so
the generic plan is what a long-running service executes. This module prepares gatewaydb's
statement and the floor's hand-written one with ``plan_cache_mode = force_generic_plan``,
runs each under ``EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)`` on the same sampled arguments and
reports the median execution time and the buffers touched. A plan regression then shows as a
server-side regression, apart from the client's decoding and model building.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

__all__ = ["ServerTime", "server_time"]

_STATEMENT = "bench_server_time"


@dataclass(frozen=True, slots=True)
class ServerTime:
    """One statement's generic plan, executed on the server."""

    median_us: float
    #: Shared buffers hit or read per execution (median).
    buffers: int
    #: The plan's top node below Limit/Result, e.g. "Index Scan".
    scan: str
    runs: int


def _as_text(value: Any) -> str | None:
    # EXECUTE takes literals; asyncpg's infinite timestamps have no ISO form of their own.
    if value is None:
        return None
    if isinstance(value, datetime):
        if value == datetime.max:
            return "infinity"
        if value == datetime.min:
            return "-infinity"
        return value.isoformat()
    return str(value)


def _scan(plan: dict[str, Any]) -> str:
    while plan.get("Node Type") in ("Limit", "Result") and plan.get("Plans"):
        plan = next(p for p in plan["Plans"] if p.get("Parent Relationship") != "InitPlan")
    return str(plan.get("Node Type"))


async def _explain(conn: asyncpg.Connection, statement: str,
                   args: tuple[Any, ...]) -> dict[str, Any]:
    # The server quotes every argument itself (format's %L): no value is spliced into SQL
    # text on the client.
    placeholders = ", ".join(["%L"] * len(args))
    explain = await conn.fetchval(
        "SELECT format($1, VARIADIC $2::text[])",
        f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) EXECUTE {statement}({placeholders})",
        [_as_text(a) for a in args])
    (result,) = json.loads(await conn.fetchval(explain))
    return dict(result)


async def server_time(conn: asyncpg.Connection,
                      statements: dict[str, tuple[str, list[tuple[Any, ...]]]]
                      ) -> dict[str, ServerTime]:
    """Median server time of each statement's generic plan, by side.

    ``statements`` maps a side to its SQL and one ``$n`` argument tuple per sampled case. The
    sides run interleaved, case by case in rotating order (the first statement a backend
    runs was measured up to 3x slower across all its executions), after one untimed round.
    """
    names = {side: f"{_STATEMENT}_{k}" for k, side in enumerate(statements)}
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    prepared: list[str] = []
    try:
        for side, (sql, _) in statements.items():
            # The statement is the bench's own text (gatewaydb's registry or bench.handwritten).
            await conn.execute(f"PREPARE {names[side]} AS {sql}")
            prepared.append(names[side])
        sides = list(statements)
        cases = len(next(iter(statements.values()))[1])
        times: dict[str, list[float]] = {side: [] for side in sides}
        buffers: dict[str, list[int]] = {side: [] for side in sides}
        scans: dict[str, str] = {}
        for i in range(-1, cases):  # -1: the untimed round, on the first case
            for k in range(len(sides)):
                side = sides[(i + k) % len(sides)]
                result = await _explain(conn, names[side], statements[side][1][max(i, 0)])
                if i < 0:
                    continue
                plan = result["Plan"]
                times[side].append(float(result["Execution Time"]) * 1000)
                buffers[side].append(int(plan.get("Shared Hit Blocks", 0))
                                     + int(plan.get("Shared Read Blocks", 0)))
                scans[side] = _scan(plan)
    finally:
        for name in prepared:  # not DEALLOCATE ALL: asyncpg's own statements live here too
            await conn.execute(f"DEALLOCATE {name}")
        await conn.execute("RESET plan_cache_mode")
    return {side: ServerTime(median_us=statistics.median(times[side]),
                             buffers=int(statistics.median(buffers[side])), scan=scans[side],
                             runs=len(times[side]))
            for side in sides}
