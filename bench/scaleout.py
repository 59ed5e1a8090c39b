"""``python -m bench.scaleout``: reads from a replica vs the primary, and PgBouncer vs direct.

On a throwaway primary + streaming standby (:mod:`gatewaydb.app.cluster`) loaded with the
bench's data set, each comparison times the same hot path (:data:`bench.hotpaths.HOT_PATHS`)
on two databases, interleaved sample by sample, with the main bench's harness:

=====================  =========================================  ========================
comparison             measured side                              baseline
=====================  =========================================  ========================
replica: top_clips,    ``Database(primary, replicas=[standby])``  ``Database(primary)``
replica: campaign_month
ryw: update_campaign_  the same, a write: one more round trip      ``Database(primary)``
metrics                for the primary's WAL position
pgbouncer: auth,       PgBouncer transaction mode,                direct, named statements
pgbouncer: top_clips   ``statement_cache=false``                  (the default)
unnamed: auth,         direct, ``statement_cache=false``          direct, named statements
unnamed: top_clips     (the Describe round trip alone)
=====================  =========================================  ========================

The ratio is measured median / baseline median. Both sides run on this one machine, so the
replica figures price the routing and a second server, not a second machine's capacity.
The PgBouncer side is skipped (and says so) without the ``pgbouncer`` binary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gatewaydb import Database
from gatewaydb.app import migrate
from gatewaydb.app.bouncer import INSTALL_HINT, pgbouncer_binary, temporary_bouncer
from gatewaydb.app.cluster import Cluster, temporary_cluster

from .datagen import ensure_loaded
from .dataset import Scale
from .harness import LATENCY_QUICK, Budget, PathResult, latency_only, measure
from .hotpaths import HOT_PATHS, HotPath
from .paths import QUICK_RESULTS_DIR, RESULTS_DIR

__all__ = ["main", "run"]

_PATHS = {p.name: p for p in HOT_PATHS}
_DB = "gatewaydb_scaleout"
#: PgBouncer's server connections: fewer than the client pool, as in the test suite.
_BOUNCER_POOL = 3
_CLIENT_POOL = 16
FULL = latency_only(3.0)
QUICK = LATENCY_QUICK


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@asynccontextmanager
async def _open(url: str, **settings: Any) -> AsyncIterator[Database]:
    async with Database(url, connection_limit=_CLIENT_POOL, **settings) as db:
        yield db


async def _compare(label: str, path: HotPath, measured: Database, baseline: Database,
                   scale: Scale, budget: Budget) -> dict[str, Any]:
    def side(db: Database) -> Callable[[Any], Any]:
        return lambda case: path.gatewaydb(db, case)

    # measure() times the four SIDES of the main bench; a comparison here has two, so the
    # last two repeat them (interleaved like the rest) and are not reported.
    sides = [side(measured), side(baseline), side(baseline), side(measured)]
    result: PathResult = await measure(path, sides, lambda rng: path.pick(rng, scale), budget)
    row = {"comparison": label, "path": path.name, "measured": asdict(result.gatewaydb),
           "baseline": asdict(result.floor), "ratio": result.ratio, "rows": result.rows}
    _say(f"{label:<10} {path.name:<15} measured {result.gatewaydb.median_us:8.1f} µs "
         f"(p99 {result.gatewaydb.p99_us:8.1f})  baseline {result.floor.median_us:8.1f} µs "
         f"(p99 {result.floor.p99_us:8.1f})  ratio {result.ratio:.2f}")
    return row


async def _replica_rows(cluster: Cluster, scale: Scale, budget: Budget) -> list[dict[str, Any]]:
    primary, standby = cluster.primary.url(_DB), cluster.standbys[0].url(_DB)
    async with _open(primary, replicas=[standby]) as routed, _open(primary) as direct:
        rows = []
        for name in ("top_clips", "campaign_month"):
            rows.append(await _compare("replica", _PATHS[name], routed, direct, scale, budget))
        # A write with replicas also reads the primary's WAL position (read-your-writes).
        rows.append(await _compare("ryw", _PATHS["update_campaign_metrics"], routed, direct,
                                   scale, budget))
        served = next(s for s in routed.stats().servers if s.role == "replica").reads
        _say(f"replica    reads served by the replica: {served}")
        return rows


async def _bouncer_rows(cluster: Cluster, scale: Scale, budget: Budget) -> list[dict[str, Any]]:
    primary = cluster.primary.url(_DB)
    rows: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        direct = await stack.enter_async_context(_open(primary))
        unnamed = await stack.enter_async_context(_open(primary, statement_cache=False))
        bouncer = None
        if pgbouncer_binary() is None:
            _say(f"pgbouncer  skipped: not installed ({INSTALL_HINT})")
        else:
            b = stack.enter_context(temporary_bouncer(primary, pool_size=_BOUNCER_POOL))
            bouncer = await stack.enter_async_context(_open(b.url(_DB),
                                                            statement_cache=False))
        for name in ("auth", "top_clips"):
            if bouncer is not None:
                rows.append(await _compare("pgbouncer", _PATHS[name], bouncer, direct, scale,
                                           budget))
            rows.append(await _compare("unnamed", _PATHS[name], unnamed, direct, scale,
                                       budget))
    return rows


async def run(scale: Scale, budget: Budget) -> dict[str, Any]:
    """Start the servers, load the data set, run every comparison; the JSON-ready result."""
    with temporary_cluster(standbys=1) as cluster:
        url = cluster.primary.create_database(_DB)
        await asyncio.to_thread(migrate.apply, url)
        load = await ensure_loaded(url, scale)
        # The standby must hold the whole data set before its reads mean anything.
        await asyncio.to_thread(cluster.wait_streaming)
        await asyncio.to_thread(cluster.wait_replayed)
        rows = await _replica_rows(cluster, scale, budget)
        rows += await _bouncer_rows(cluster, scale, budget)
        version = cluster.primary.sql("SELECT current_setting('server_version')")
    return {"scale_users": scale.users, "server_version": version,
            "load_seconds": load.seconds, "budget": asdict(budget), "comparisons": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 users, a few samples")
    parser.add_argument("--scale", type=int, metavar="USERS", help="users in the data set")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the JSON")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    scale = Scale(args.scale or (50 if args.quick else 2_000))
    logging.getLogger("gatewaydb").addHandler(logging.NullHandler())
    result = asyncio.run(run(scale, budget))
    out: Path = args.out or (QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scaleout-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    _say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
