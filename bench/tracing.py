"""``python -m bench.tracing``: what OpenTelemetry costs on the hot paths (auth, top clips).

Four :class:`~gatewaydb.Database` instances on the bench's data set, one per side; the main
bench's harness (:func:`bench.harness.measure`) gives every side the same arguments in each
sample, back to back, the order rotating:

=============  ===========================================================================
side           observers
=============  ===========================================================================
off            none: the default (the engine checks one attribute per call)
api only       ``OpenTelemetryObserver()`` with no SDK installed: OpenTelemetry's no-op
               tracer and meter, as in a service that depends on the API but exports nothing
spans          the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` into an
               ``InMemorySpanExporter`` (metrics off)
spans+metrics  the same, plus the SDK's ``MeterProvider`` with an ``InMemoryMetricReader``
=============  ===========================================================================

Ratios are each side's median (and p99) over the ``off`` median (p99). ``make bench`` runs it
on the main bench's data set (10,000 users, loaded once for both); ``make bench-quick`` on 50
users with a few samples, which proves it runs and measures nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gatewaydb import Database
from gatewaydb.core import Observer
from gatewaydb.otel import OpenTelemetryObserver

from .datagen import ensure_loaded
from .dataset import DEFAULT_USERS, Scale
from .errors import BenchError
from .harness import LATENCY_QUICK, Budget, Timing, latency_only, measure
from .hotpaths import HOT_PATHS, HotPath
from .paths import QUICK_RESULTS_DIR, RESULTS_DIR
from .server import bench_database, database_name

__all__ = ["SIDES", "main", "run"]

#: The sides, in the harness's order (its ratio is the first side's over the second's).
SIDES = ("spans", "off", "api only", "spans+metrics")
PATHS = ("auth", "top_clips")
_POOL = 10
FULL = latency_only(4.0)
QUICK = LATENCY_QUICK
QUICK_USERS = 50


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _Sdk:
    """An SDK pipeline of its own (never the global providers): spans, maybe metrics."""

    def __init__(self, *, metrics: bool) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader() if metrics else None
        self.meter_provider = (MeterProvider(metric_readers=[self.reader])
                               if self.reader is not None else None)
        self.observer = OpenTelemetryObserver(tracer_provider=self.tracer_provider,
                                              meter_provider=self.meter_provider,
                                              metrics=metrics)

    def spans(self) -> int:
        self.tracer_provider.force_flush()
        return len(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


@asynccontextmanager
async def _open(url: str, observers: list[Observer]) -> AsyncIterator[Database]:
    async with Database(url, connection_limit=_POOL, observers=observers) as db:
        yield db


def _row(path: HotPath, timings: dict[str, Timing], spans: dict[str, int]) -> dict[str, Any]:
    off = timings["off"]
    row: dict[str, Any] = {"path": path.name, "title": path.title,
                           "sides": {side: asdict(t) for side, t in timings.items()},
                           "ratios": {}, "spans_exported": spans}
    for side, timing in timings.items():
        if side != "off":
            row["ratios"][side] = {"median": timing.median_us / off.median_us,
                                   "p99": timing.p99_us / off.p99_us}
    return row


async def run(url: str, scale: Scale, budget: Budget) -> dict[str, Any]:
    """Load the data set if needed, then time each path on the four sides."""
    load = await ensure_loaded(url, scale)
    spans_sdk, metrics_sdk = _Sdk(metrics=False), _Sdk(metrics=True)
    rows = []
    try:
        async with AsyncExitStack() as stack:
            dbs = {
                "spans": await stack.enter_async_context(_open(url, [spans_sdk.observer])),
                "off": await stack.enter_async_context(_open(url, [])),
                "api only": await stack.enter_async_context(
                    _open(url, [OpenTelemetryObserver()])),
                "spans+metrics": await stack.enter_async_context(
                    _open(url, [metrics_sdk.observer])),
            }
            paths = {p.name: p for p in HOT_PATHS}
            for name in PATHS:
                path = paths[name]

                def side(db: Database, path: HotPath = path) -> Callable[[Any], Any]:
                    return lambda case: path.gatewaydb(db, case)

                def pick(rng: random.Random, path: HotPath = path) -> Any:
                    return path.pick(rng, scale)

                before = {"spans": spans_sdk.spans(), "spans+metrics": metrics_sdk.spans()}
                result = await measure(path, [side(dbs[s]) for s in SIDES], pick, budget)
                spans = {"spans": spans_sdk.spans() - before["spans"],
                         "spans+metrics": metrics_sdk.spans() - before["spans+metrics"],
                         "off": 0, "api only": 0}
                timings = dict(zip(SIDES, (result.gatewaydb, result.floor,
                                           result.floor_noreset, result.validated),
                                   strict=True))
                row = _row(path, timings, spans)
                row["spread"] = result.spread
                rows.append(row)
                _say(_line(row))
    finally:
        spans_sdk.shutdown()
        metrics_sdk.shutdown()
    if any(r["spans_exported"]["spans"] == 0 for r in rows):
        raise BenchError("the traced side exported no span: tracing was not on")
    return {"scale_users": scale.users, "load_seconds": load.seconds,
            "budget": asdict(budget), "paths": rows}


def _line(row: dict[str, Any]) -> str:
    sides = row["sides"]
    parts = [f"off {sides['off']['median_us']:7.1f} µs (p99 {sides['off']['p99_us']:7.1f})"]
    for side in ("api only", "spans", "spans+metrics"):
        ratio = row["ratios"][side]
        parts.append(f"{side} {sides[side]['median_us']:7.1f} µs ×{ratio['median']:.2f} "
                     f"(p99 ×{ratio['p99']:.2f})")
    return f"{row['path']:<10} " + "  ".join(parts)


def format_table(result: dict[str, Any]) -> str:
    """The result as a plain table: medians and p99 in µs, ratios to ``off``."""
    head = (f"{'path':<10} {'side':<14} {'median µs':>10} {'p99 µs':>10} {'× off':>7} "
            f"{'p99 × off':>10} {'spans':>7}")
    lines = [head, "-" * len(head)]
    for row in result["paths"]:
        for side in ("off", "api only", "spans", "spans+metrics"):
            timing = row["sides"][side]
            ratio = row["ratios"].get(side, {"median": 1.0, "p99": 1.0})
            lines.append(f"{row['path']:<10} {side:<14} {timing['median_us']:>10.1f} "
                         f"{timing['p99_us']:>10.1f} {ratio['median']:>7.2f} "
                         f"{ratio['p99']:>10.2f} {row['spans_exported'][side]:>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_USERS} users, a few samples: a smoke test")
    parser.add_argument("--scale", type=int, metavar="USERS", help="users in the data set")
    parser.add_argument("--database-url", metavar="URL",
                        help="an empty database, or one the bench loaded before (default: "
                             "the bench's embedded server)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the JSON")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    users = args.scale or (QUICK_USERS if args.quick else DEFAULT_USERS)
    logging.getLogger("gatewaydb").addHandler(logging.NullHandler())
    try:
        with bench_database(args.database_url, database_name(users)) as url:
            result = asyncio.run(run(url, Scale(users), budget))
    except BenchError as exc:
        print(f"bench.tracing: {exc}", file=sys.stderr)
        return 1
    out: Path = args.out or (QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"tracing-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(format_table(result))
    print(f"\nresult: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
