"""One bench run: load the data set, then measure every hot path on gatewaydb and the floor."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from gatewaydb import Database

from .datagen import LoadInfo, ensure_loaded
from .dataset import WINDOW_DAYS, Scale
from .floor import POOL_SIZE, Floor
from .harness import Budget, Memory, PathResult, Throughput, measure, peak_memory, throughput
from .hotpaths import HOT_PATHS, HotPath, iter_case

__all__ = ["RunResult", "run"]

#: Rows in the short range whose streaming memory is compared with the whole whale's.
_SHORT_RANGE_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class RunResult:
    load: LoadInfo
    server_version: str
    server_settings: dict[str, str]
    paths: list[PathResult]
    throughput: list[Throughput]
    #: Streaming memory: "short" (about 10,000 rows of the whale) and "whole" (all of it).
    memory: dict[str, Memory]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sides(path: HotPath, db: Database, floor: Floor, scale: Scale
           ) -> tuple[Callable[[Any], Any], Callable[[Any], Any],
                      Callable[[random.Random], Any]]:
    """The path's two calls and its argument picker, bound to this run."""
    return (lambda case: path.gatewaydb(db, case), lambda case: path.floor(floor, case),
            lambda rng: path.pick(rng, scale))


async def _clear_scratch(conn: asyncpg.Connection, scale: Scale) -> None:
    """Delete the clips the write paths added, so every run starts from the same data."""
    await conn.execute("DELETE FROM clips WHERE asset_id = $1", scale.scratch_asset)


async def _server_facts(conn: asyncpg.Connection) -> tuple[str, dict[str, str]]:
    version = await conn.fetchval("SELECT current_setting('server_version')")
    rows = await conn.fetch(
        "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name = ANY($1)",
        ["shared_buffers", "work_mem", "max_connections", "synchronous_commit", "fsync",
         "jit", "max_parallel_workers_per_gather"])
    return str(version), {r[0]: r[1] for r in rows}


async def _memory(db: Database, floor: Floor, scale: Scale) -> dict[str, Memory]:
    path = next(p for p in HOT_PATHS if p.name == "iter_conversions")
    gw, fl, _ = _sides(path, db, floor, scale)
    per_day = scale.whale_conversions / WINDOW_DAYS
    short_days = max(1, min(WINDOW_DAYS, math.ceil(_SHORT_RANGE_ROWS / per_day)))
    return {"short": await peak_memory(gw, fl, iter_case(scale, short_days)),
            "whole": await peak_memory(gw, fl, iter_case(scale))}


async def run(url: str, scale: Scale, budget: Budget) -> RunResult:
    """Measure every hot path against ``url``'s database, loading the data set if needed."""
    load = await ensure_loaded(url, scale)
    admin = await asyncpg.connect(url)
    try:
        version, settings = await _server_facts(admin)
        await _clear_scratch(admin, scale)
        floor = await Floor.open(url)
        db = Database(url, connection_limit=POOL_SIZE)
        await db.connect()
        try:
            paths: list[PathResult] = []
            rates: list[Throughput] = []
            for path in HOT_PATHS:
                gw, fl, pick = _sides(path, db, floor, scale)
                result = await measure(path, gw, fl, pick, budget)
                paths.append(result)
                _say(f"  {path.name:<24} gatewaydb {result.gatewaydb.median_us:>10,.0f} µs  "
                     f"floor {result.floor.median_us:>10,.0f} µs  x{result.ratio:.2f}  "
                     f"({result.gatewaydb.samples} samples, spread {result.spread:.1%})")
                if path.writes:
                    await _clear_scratch(admin, scale)
                if path.throughput:
                    rate = await throughput(path, gw, fl, pick, budget, POOL_SIZE)
                    rates.append(rate)
                    _say(f"  {path.name + ' ops/s':<24} gatewaydb {rate.gatewaydb_ops_s:>10,.0f}"
                         f"     floor {rate.floor_ops_s:>10,.0f}     x{rate.ratio:.2f}")
            memory = await _memory(db, floor, scale)
        finally:
            await db.disconnect()
            await floor.close()
    finally:
        try:
            await _clear_scratch(admin, scale)
            # The deleted scratch clips and the rewritten campaigns leave dead rows: the next
            # run should not measure them.
            await admin.execute("VACUUM (ANALYZE) clips, campaigns")
        finally:
            await admin.close()
    return RunResult(load=load, server_version=version, server_settings=settings, paths=paths,
                     throughput=rates, memory=memory)
