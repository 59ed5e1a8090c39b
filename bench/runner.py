"""One bench run: load the data set, then measure every hot path on gatewaydb and the floors."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from gatewaydb import Database
from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir

from .datagen import LoadInfo, ensure_loaded
from .dataset import WINDOW_DAYS, Scale
from .floor import POOL_SIZE, Floor
from .harness import Budget, Memory, PathResult, Throughput, measure, peak_memory, throughput
from .hotpaths import HOT_PATHS, HotPath, iter_case
from .servertime import ServerTime, server_time

__all__ = ["RunResult", "run"]

#: Rows in the short range whose streaming memory is compared with the whole whale's.
_SHORT_RANGE_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Floors:
    """The floors' pools: asyncpg's default, and the same with a no-op reset."""

    default: Floor
    noreset: Floor

    async def close(self) -> None:
        await self.default.close()
        await self.noreset.close()


@dataclass(frozen=True, slots=True)
class RunResult:
    load: LoadInfo
    server_version: str
    server_settings: dict[str, str]
    paths: list[PathResult]
    #: Scans only: the generic plans' server time, gatewaydb's statement and the floor's.
    server: dict[str, dict[str, ServerTime]]
    throughput: list[Throughput]
    #: Streaming memory: "short" (about 10,000 rows of the whale) and "whole" (all of it).
    memory: dict[str, Memory]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


Side = Callable[[Any], Any]


def _sides(path: HotPath, db: Database, floors: Floors) -> list[Side]:
    """The path's calls in :data:`bench.harness.SIDES` order, bound to this run."""
    return [lambda case: path.gatewaydb(db, case),
            lambda case: path.floor(floors.default, case),
            lambda case: path.floor(floors.noreset, case),
            lambda case: path.validated(floors.default, case)]


def _picker(path: HotPath, scale: Scale) -> Callable[[random.Random], Any]:
    return lambda rng: path.pick(rng, scale)


async def _server_times(conn: asyncpg.Connection, path: HotPath, scale: Scale,
                        runs: int) -> dict[str, ServerTime]:
    """gatewaydb's statement and the floor's, on the same ``runs`` sampled cases."""
    assert path.server is not None
    rng = random.Random(f"bench:{path.name}:server")
    cases = [path.pick(rng, scale) for _ in range(runs)]
    registry = Registry.load(sql_dir())
    case = path.server
    return await server_time(conn, {
        "gatewaydb": (registry[case.statement].sql, [case.gatewaydb_args(c) for c in cases]),
        "floor": (case.floor_sql, [case.floor_args(c) for c in cases])})


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


async def _memory(db: Database, floors: Floors, scale: Scale) -> dict[str, Memory]:
    path = next(p for p in HOT_PATHS if p.name == "iter_conversions")
    gw, fl, *_ = _sides(path, db, floors)
    per_day = scale.whale_conversions / WINDOW_DAYS
    short_days = max(1, min(WINDOW_DAYS, math.ceil(_SHORT_RANGE_ROWS / per_day)))
    return {"short": await peak_memory(gw, fl, iter_case(scale, short_days)),
            "whole": await peak_memory(gw, fl, iter_case(scale))}


async def run(url: str, scale: Scale, budget: Budget,
              only: frozenset[str] | None = None) -> RunResult:
    """Measure every hot path (or those named in ``only``) against ``url``'s database,
    loading the data set if needed."""
    load = await ensure_loaded(url, scale)
    admin = await asyncpg.connect(url)
    try:
        version, settings = await _server_facts(admin)
        await _clear_scratch(admin, scale)
        floors = Floors(await Floor.open(url), await Floor.open(url, reset=False))
        db = Database(url, connection_limit=POOL_SIZE)
        await db.connect()
        try:
            paths: list[PathResult] = []
            server: dict[str, dict[str, ServerTime]] = {}
            rates: list[Throughput] = []
            for path in HOT_PATHS:
                if only is not None and path.name not in only:
                    continue
                sides, pick = _sides(path, db, floors), _picker(path, scale)
                result = await measure(path, sides, pick, budget)
                paths.append(result)
                _say(f"  {path.name:<24} gatewaydb {result.gatewaydb.median_us:>10,.0f} µs  "
                     f"floor {result.floor.median_us:>10,.0f} µs  x{result.ratio:.2f}  "
                     f"no reset x{result.ratio_noreset:.2f}  validated "
                     f"x{result.validated_ratio:.2f}  ({result.gatewaydb.samples} samples, "
                     f"spread {result.spread:.1%})")
                if path.writes:
                    await _clear_scratch(admin, scale)
                if path.server is not None:
                    times = server[path.name] = await _server_times(admin, path, scale,
                                                                    budget.server_runs)
                    _say(f"  {path.name + ' server':<24} gatewaydb "
                         f"{times['gatewaydb'].median_us:>10,.0f} µs  floor "
                         f"{times['floor'].median_us:>10,.0f} µs  (generic plans, buffers "
                         f"{times['gatewaydb'].buffers} / {times['floor'].buffers})")
                if path.throughput:
                    rate = await throughput(path, sides[:3], pick, budget, POOL_SIZE)
                    rates.append(rate)
                    _say(f"  {path.name + ' ops/s':<24} gatewaydb {rate.gatewaydb_ops_s:>10,.0f}"
                         f"     floor {rate.floor_ops_s:>10,.0f}     x{rate.ratio:.2f}  "
                         f"no reset x{rate.ratio_noreset:.2f}")
            memory = (await _memory(db, floors, scale)
                      if only is None or "iter_conversions" in only else {})
        finally:
            await db.disconnect()
            await floors.close()
    finally:
        try:
            await _clear_scratch(admin, scale)
            # The deleted scratch clips and the rewritten campaigns leave dead rows: the next
            # run should not measure them.
            await admin.execute("VACUUM (ANALYZE) clips, campaigns")
        finally:
            await admin.close()
    return RunResult(load=load, server_version=version, server_settings=settings, paths=paths,
                     server=server, throughput=rates, memory=memory)
