"""Timing: interleaved latency samples, concurrent throughput, peak memory of a stream.

Latency: gatewaydb and the floor get the same arguments in every sample, one call each,
back to back, their order alternating from sample to sample, so that drift (other load on the
machine, autovacuum, caches warming) hits both sides alike. Each path first runs a warm-up
(prepared statements, pool connections, caches), which also times a pair of calls to size the
sample count to a time budget.

Stability: a sample's medians are compared between its first and second half; the spread
(the larger relative difference, over gatewaydb, floor and their ratio) is reported with
each path, so a reader sees whether a median is stable to a few percent.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import statistics
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from time import perf_counter, perf_counter_ns
from typing import Any

from .errors import BenchError
from .hotpaths import HotPath, count_rows

__all__ = ["Budget", "Memory", "PathResult", "Throughput", "Timing",
           "measure", "peak_memory", "throughput"]

Call = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Budget:
    """How long and how often to measure."""

    warmup_seconds: float
    warmup_min: int
    #: Samples per path: as many as fit in ``seconds``, within [min_samples, max_samples].
    seconds: float
    min_samples: int
    max_samples: int
    throughput_seconds: float
    throughput_rounds: int
    concurrency: int


@dataclass(frozen=True, slots=True)
class Timing:
    """One side's latency over a path's samples, in microseconds."""

    median_us: float
    p99_us: float
    mean_us: float
    min_us: float
    samples: int
    #: |median(first half) - median(second half)| / median.
    halves_spread: float


@dataclass(frozen=True, slots=True)
class PathResult:
    name: str
    title: str
    gatewaydb: Timing
    floor: Timing
    #: gatewaydb median / floor median.
    ratio: float
    #: The largest halves spread of gatewaydb, floor and the ratio itself.
    spread: float
    #: Rows per call (median): what each sample returned on both sides.
    rows: int
    warmup: int


@dataclass(frozen=True, slots=True)
class Throughput:
    name: str
    gatewaydb_ops_s: float
    floor_ops_s: float
    #: gatewaydb ops/s / floor ops/s (higher is better, unlike the latency ratio).
    ratio: float
    concurrency: int
    pool_size: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Memory:
    """Peak Python memory (tracemalloc) while streaming ``rows`` rows."""

    rows: int
    gatewaydb_peak_bytes: int
    floor_peak_bytes: int


def _percentile(ordered: list[int], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))])


def _halves_spread(values: Sequence[float]) -> float:
    """|median(first half) - median(second half)| / median: the drift during the samples."""
    if len(values) < 4:
        return 0.0
    half = len(values) // 2
    first, second = statistics.median(values[:half]), statistics.median(values[half:])
    return abs(first - second) / statistics.median(values)


def _timing(ns: list[int]) -> Timing:
    ordered = sorted(ns)
    return Timing(median_us=statistics.median(ordered) / 1000,
                  p99_us=_percentile(ordered, 0.99) / 1000,
                  mean_us=statistics.fmean(ordered) / 1000, min_us=ordered[0] / 1000,
                  samples=len(ns), halves_spread=_halves_spread(ns))


async def _timed(call: Call, case: Any) -> tuple[int, Any]:
    started = perf_counter_ns()
    result = await call(case)
    return perf_counter_ns() - started, result


async def _pair(sides: tuple[Call, Call], case: Any, i: int) -> tuple[int, int, Any, Any]:
    """Both sides on ``case``; gatewaydb first on even ``i``, the floor first on odd."""
    gw, fl = sides
    if i % 2 == 0:
        gw_ns, gw_result = await _timed(gw, case)
        fl_ns, fl_result = await _timed(fl, case)
    else:
        fl_ns, fl_result = await _timed(fl, case)
        gw_ns, gw_result = await _timed(gw, case)
    return gw_ns, fl_ns, gw_result, fl_result


def _check_same_work(path: HotPath, gw_result: Any, fl_result: Any) -> None:
    gw_rows, fl_rows = count_rows(gw_result), count_rows(fl_result)
    if gw_rows != fl_rows:
        raise BenchError(f"{path.name}: gatewaydb returned {gw_rows} rows, the floor "
                         f"{fl_rows}, for the same arguments: the floor is not doing the "
                         "same work")


async def measure(path: HotPath, gatewaydb: Call, floor: Call,
                  pick: Callable[[random.Random], Any], budget: Budget) -> PathResult:
    """Warm up, then time ``path``'s interleaved samples."""
    rng = random.Random(f"bench:{path.name}")
    sides = (gatewaydb, floor)
    gc.collect()  # not a previous path's garbage collected during this one
    warmup, started = 0, perf_counter()
    while warmup < budget.warmup_min or perf_counter() - started < budget.warmup_seconds:
        _, _, gw_result, fl_result = await _pair(sides, pick(rng), warmup)
        _check_same_work(path, gw_result, fl_result)
        warmup += 1
    per_pair = (perf_counter() - started) / warmup
    cap = min(budget.max_samples, path.max_samples or budget.max_samples)
    samples = max(budget.min_samples, min(cap, int(budget.seconds / per_pair)))
    gw_ns: list[int] = []
    fl_ns: list[int] = []
    rows: list[int] = []
    for i in range(samples):
        case = pick(rng)  # outside the timed calls: building arguments is not the path
        g, f, gw_result, fl_result = await _pair(sides, case, i)
        gw_ns.append(g)
        fl_ns.append(f)
        rows.append(count_rows(gw_result))
        _check_same_work(path, gw_result, fl_result)
    gw, fl = _timing(gw_ns), _timing(fl_ns)
    # The paired ratios (same arguments, back to back) show whether the ratio itself drifted.
    ratio_spread = _halves_spread([g / f for g, f in zip(gw_ns, fl_ns, strict=True)])
    return PathResult(name=path.name, title=path.title, gatewaydb=gw, floor=fl,
                      ratio=gw.median_us / fl.median_us,
                      spread=max(gw.halves_spread, fl.halves_spread, ratio_spread),
                      rows=int(statistics.median(rows)), warmup=warmup)


async def _burst(call: Call, cases: list[Any], concurrency: int, seconds: float
                 ) -> tuple[int, float]:
    """``concurrency`` tasks calling ``call`` back to back for ``seconds``: (calls, seconds)."""
    done = 0
    started = perf_counter()
    deadline = started + seconds

    async def worker(k: int) -> None:
        nonlocal done
        i = k
        while perf_counter() < deadline:
            await call(cases[i % len(cases)])
            done += 1
            i += concurrency

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done, perf_counter() - started


async def throughput(path: HotPath, gatewaydb: Call, floor: Call,
                     pick: Callable[[random.Random], Any], budget: Budget,
                     pool_size: int) -> Throughput:
    """Ops/s of each side with ``budget.concurrency`` tasks, in alternating rounds."""
    rng = random.Random(f"bench:{path.name}:throughput")
    cases = [pick(rng) for _ in range(1000)]
    calls = [0, 0]  # gatewaydb, floor
    seconds = [0.0, 0.0]
    # A short untimed burst first: every pool connection open and its statements prepared.
    for call in (gatewaydb, floor):
        await _burst(call, cases, budget.concurrency, min(0.2, budget.throughput_seconds))
    for r in range(budget.throughput_rounds):
        # Alternate which side goes first, as the latency samples do.
        for side in ((0, 1) if r % 2 == 0 else (1, 0)):
            done, took = await _burst((gatewaydb, floor)[side], cases, budget.concurrency,
                                      budget.throughput_seconds)
            calls[side] += done
            seconds[side] += took
    gw_ops, fl_ops = calls[0] / seconds[0], calls[1] / seconds[1]
    return Throughput(name=path.name, gatewaydb_ops_s=gw_ops, floor_ops_s=fl_ops,
                      ratio=gw_ops / fl_ops, concurrency=budget.concurrency,
                      pool_size=pool_size, seconds=sum(seconds))


async def peak_memory(gatewaydb: Call, floor: Call, case: Any) -> Memory:
    """Each side's peak traced memory while streaming ``case`` (untimed: tracing is slow)."""
    peaks: list[int] = []
    rows = 0
    for call in (gatewaydb, floor):
        gc.collect()
        tracemalloc.start()
        try:
            rows = count_rows(await call(case))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return Memory(rows=rows, gatewaydb_peak_bytes=peaks[0], floor_peak_bytes=peaks[1])
