"""``python -m bench.breakdown``: where the busy day's microseconds go.

The whale campaign's day (~1,100 conversion rows) is the scan furthest from its goal. This
splits one call into what each layer adds, every step measured on the same sampled days,
interleaved, on the bench's data set (``make bench`` loads it):

- **server, round trip and rows on the wire**: the same scan returning one boolean per row
  (``source IS NULL``: still read from each heap row, so no index-only scan), so the server
  does the same work and asyncpg reads as many rows, but decodes almost nothing; the generic
  plan's execution time under ``EXPLAIN ANALYZE`` (:mod:`bench.servertime`) is shown beside
  it as the server's share;
- **decoding**: the floor's records (every column decoded) minus the line above;
- **records → dicts** and **dicts → models**: gatewaydb's mapper, step by step, GC paused;
- **GC**: gatewaydb's whole call with the cyclic GC on, minus the same call with it off;
- and the two totals, gatewaydb's ``list_conversions`` and the floor (default asyncpg pool).

Figures are medians in µs per call and per row; every step's own run-to-run noise shows as
the spread between its median and p25.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from time import perf_counter_ns
from typing import Any, Final
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from gatewaydb import Database
from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir
from gatewaydb.gateway.models import Conversion

from .datagen import ensure_loaded
from .dataset import DEFAULT_USERS, WINDOW_DAYS, WINDOW_START, Scale
from .floor import Floor
from .handwritten import CONVERSIONS
from .server import bench_database
from .servertime import server_time

Day = tuple[UUID, datetime, datetime]
#: The floor's scan with one boolean per row: the same server work (each heap row is read)
#: and as many rows, almost nothing to decode.
_WIRE: Final = f"SELECT source IS NULL FROM ({CONVERSIONS}) AS day"  # noqa: S608 -- bench SQL


def _days(scale: Scale, count: int) -> list[Day]:
    rng = random.Random("bench:breakdown")
    starts = [WINDOW_START + timedelta(days=rng.randrange(WINDOW_DAYS)) for _ in range(count)]
    return [(scale.whale_campaign, s, s + timedelta(days=1)) for s in starts]


async def _steps(url: str, days: list[Day], rounds: int) -> dict[str, list[int]]:
    """Nanoseconds of every step, per sampled day, interleaved round by round."""
    conn = await asyncpg.connect(url)
    floor = await Floor.open(url)
    db = Database(url, connection_limit=2)
    await db.connect()
    many = TypeAdapter(list[Conversion])
    try:
        async def timed(step: Callable[[], Awaitable[Any]] | Callable[[], Any],
                        gc_on: bool = False) -> int:
            enabled = gc.isenabled()
            if not gc_on:
                gc.disable()
            try:
                started = perf_counter_ns()
                result = step()
                if isinstance(result, Awaitable):
                    await result
                return perf_counter_ns() - started
            finally:
                if enabled:
                    gc.enable()

        async def wire(day: Day, _: list[Any]) -> int:
            return await timed(lambda: conn.fetch(_WIRE, *day))

        async def records(day: Day, _: list[Any]) -> int:
            return await timed(lambda: conn.fetch(CONVERSIONS, *day))

        async def dicts(_: Day, rows: list[Any]) -> int:
            names = tuple(rows[0].keys())
            return await timed(lambda: [dict(zip(names, r, strict=False)) for r in rows])

        async def models(_: Day, rows: list[Any]) -> int:
            names = tuple(rows[0].keys())
            mappings = [dict(zip(names, r, strict=False)) for r in rows]
            return await timed(lambda: many.validate_python(mappings))

        async def gatewaydb_gc_off(day: Day, _: list[Any]) -> int:
            return await timed(lambda: db.list_conversions(*day))

        async def gatewaydb(day: Day, _: list[Any]) -> int:
            return await timed(lambda: db.list_conversions(*day), gc_on=True)

        async def floor_records(day: Day, _: list[Any]) -> int:
            return await timed(lambda: floor.fetch(CONVERSIONS, *day), gc_on=True)

        steps = {"wire": wire, "records": records, "dicts": dicts, "models": models,
                 "gatewaydb_gc_off": gatewaydb_gc_off, "gatewaydb": gatewaydb,
                 "floor": floor_records}
        samples: dict[str, list[int]] = {name: [] for name in steps}
        names = list(steps)
        rows: list[Any] = []
        for r in range(rounds):
            day = days[r % len(days)]
            rows = await conn.fetch(CONVERSIONS, *day)
            for k in range(len(names)):  # rotating order: drift hits every step alike
                name = names[(r + k) % len(names)]
                samples[name].append(await steps[name](day, rows))
        samples["rows"] = [len(rows)]
        return samples
    finally:
        await db.disconnect()
        await floor.close()
        await conn.close()


def _report(samples: dict[str, list[int]], server_us: float) -> str:
    rows = samples.pop("rows")[0]
    med = {k: statistics.median(v) / 1e3 for k, v in samples.items()}
    p25 = {k: statistics.quantiles(v, n=4)[0] / 1e3 for k, v in samples.items()}
    parts = [
        ("server + round trip + rows on the wire (a bool per row)", med["wire"], "wire"),
        ("  of which the server (generic plan, EXPLAIN ANALYZE)", server_us, None),
        ("decoding every column (floor records - the line above)",
         med["records"] - med["wire"], "records"),
        ("records -> dicts (dict(zip), GC paused)", med["dicts"], "dicts"),
        ("dicts -> validated models (TypeAdapter, GC paused)", med["models"], "models"),
        ("cyclic GC (gatewaydb's call, GC on - GC off)",
         med["gatewaydb"] - med["gatewaydb_gc_off"], "gatewaydb"),
    ]
    lines = [f"busy day: {rows:,} rows, {len(samples['floor'])} interleaved rounds "
             "(medians; p25 for the step's own noise)",
             f"{'step':<58}{'µs':>9}{'µs/row':>9}{'p25 µs':>9}"]
    for label, us, key in parts:
        noise = f"{p25[key]:>9,.0f}" if key else ""
        lines.append(f"{label:<58}{us:>9,.0f}{us / rows:>9.2f}{noise}")
    for label, key in (("gatewaydb list_conversions (GC on)", "gatewaydb"),
                       ("gatewaydb list_conversions (GC off)", "gatewaydb_gc_off"),
                       ("floor: default asyncpg pool, records (GC on)", "floor")):
        lines.append(f"{label:<58}{med[key]:>9,.0f}{med[key] / rows:>9.2f}{p25[key]:>9,.0f}")
    lines.append(f"{'ratio gatewaydb / floor':<58}{med['gatewaydb'] / med['floor']:>9.2f}x")
    return "\n".join(lines)


async def _measure(url: str, scale: Scale, rounds: int) -> str:
    await ensure_loaded(url, scale)
    days = _days(scale, 40)
    samples = await _steps(url, days, rounds)
    # After the steps, so the server time is of the same days with their pages as warm.
    conn = await asyncpg.connect(url)
    try:
        statement = Registry.load(sql_dir())["list_conversions"].sql
        server = await server_time(conn, {"gatewaydb": (statement, [(*d, None) for d in days])})
    finally:
        await conn.close()
    return _report(samples, server["gatewaydb"].median_us)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="as for python -m bench")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    scale = Scale(DEFAULT_USERS)
    with bench_database(args.database_url, "gatewaydb_bench") as url:
        print(asyncio.run(_measure(url, scale, max(args.rounds, 8))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
