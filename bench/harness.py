"""Timing: interleaved latency samples, concurrent throughput, peak memory of a stream.

Latency: every side — gatewaydb, the floor, the floor without reset, the validated floor —
gets the same arguments in every sample, one call each, back to back, their order rotating
from sample to sample, so that drift (other load on the machine, autovacuum, caches warming)
hits every side alike. Each path first runs a warm-up
(prepared statements, pool connections, caches), which also times a pair of calls to size the
sample count to a time budget.

Stability: a sample's medians are compared between its first and second half; the spread
(the largest relative difference, over every side and gatewaydb's ratio to the floor) is
reported with each path, so a reader sees whether a median is stable to a few percent.
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

__all__ = ["LATENCY_QUICK", "SIDES", "Budget", "Memory", "PathResult", "Throughput", "Timing",
           "latency_only", "measure", "peak_memory", "throughput"]

Call = Callable[[Any], Awaitable[Any]]
#: The sides of every latency sample, in the order of the first sample.
SIDES = ("gatewaydb", "floor", "floor_noreset", "validated")


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
    #: Sampled cases per scan whose generic plans are run under EXPLAIN ANALYZE.
    server_runs: int


def latency_only(seconds: float) -> Budget:
    """A budget of latency samples alone, up to ``seconds`` a path: no throughput bursts and no
    EXPLAIN ANALYZE scans (the side benches time client round trips only)."""
    return Budget(warmup_seconds=0.5, warmup_min=20, seconds=seconds, min_samples=20,
                  max_samples=2000, throughput_seconds=0, throughput_rounds=0, concurrency=1,
                  server_runs=0)


#: :func:`latency_only` for a smoke test: every figure, none of them meaningful.
LATENCY_QUICK = Budget(warmup_seconds=0.0, warmup_min=2, seconds=0.05, min_samples=4,
                       max_samples=10, throughput_seconds=0, throughput_rounds=0,
                       concurrency=1, server_runs=0)


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
    #: Hand-written SQL on a default asyncpg pool, records.
    floor: Timing
    #: The same on a pool whose reset is a no-op.
    floor_noreset: Timing
    #: The floor plus ``model_validate(dict(record))`` per row.
    validated: Timing
    #: gatewaydb median / floor median.
    ratio: float
    #: gatewaydb median / floor_noreset median.
    ratio_noreset: float
    #: validated median / floor median: what models cost a team without gatewaydb.
    validated_ratio: float
    #: The largest halves spread of every side and of gatewaydb's per-sample ratio.
    spread: float
    #: Rows per call (median): what each sample returned on both sides.
    rows: int
    warmup: int
    #: The goal for ``ratio`` (at most), from the hot path; None: none set.
    target: float | None = None


@dataclass(frozen=True, slots=True)
class Throughput:
    name: str
    gatewaydb_ops_s: float
    floor_ops_s: float
    floor_noreset_ops_s: float
    #: gatewaydb ops/s / floor ops/s (higher is better, unlike the latency ratio).
    ratio: float
    #: gatewaydb ops/s / floor_noreset ops/s.
    ratio_noreset: float
    concurrency: int
    pool_size: int
    seconds: float
    #: The goal for ``ratio`` (at least), from the hot path; None: none set.
    target: float | None = None


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


async def _timed(call: Call, case: Any) -> tuple[int, int]:
    """(ns, rows) of one call. Its result is freed here, before the next side runs: a side's
    rows kept alive would lengthen the cyclic GC's passes during the next side's call."""
    started = perf_counter_ns()
    result = await call(case)
    took = perf_counter_ns() - started
    return took, count_rows(result)


async def _round(sides: Sequence[Call], case: Any, i: int) -> list[tuple[int, int]]:
    """Every side on ``case``, starting with side ``i % len(sides)``; (ns, rows) by side."""
    out: list[tuple[int, int]] = [(0, 0)] * len(sides)
    for k in range(len(sides)):
        j = (i + k) % len(sides)
        out[j] = await _timed(sides[j], case)
    return out


def _check_same_work(path: HotPath, counts: Sequence[int]) -> None:
    if len(set(counts)) != 1:
        shown = ", ".join(f"{side} {n}" for side, n in zip(SIDES, counts, strict=True))
        raise BenchError(f"{path.name}: the sides returned different row counts for the same "
                         f"arguments ({shown}): they are not doing the same work")


async def measure(path: HotPath, sides: Sequence[Call],
                  pick: Callable[[random.Random], Any], budget: Budget) -> PathResult:
    """Warm up, then time ``path``'s interleaved samples; ``sides`` in :data:`SIDES` order."""
    rng = random.Random(f"bench:{path.name}")
    gc.collect()  # not a previous path's garbage collected during this one
    warmup, started = 0, perf_counter()
    while warmup < budget.warmup_min or perf_counter() - started < budget.warmup_seconds:
        _check_same_work(path, [n for _, n in await _round(sides, pick(rng), warmup)])
        warmup += 1
    per_round = (perf_counter() - started) / warmup
    cap = min(budget.max_samples, path.max_samples or budget.max_samples)
    samples = max(budget.min_samples, min(cap, int(budget.seconds / per_round)))
    ns: list[list[int]] = [[] for _ in sides]
    rows: list[int] = []
    for i in range(samples):
        case = pick(rng)  # outside the timed calls: building arguments is not the path
        done = await _round(sides, case, i)
        for k, (took, _) in enumerate(done):
            ns[k].append(took)
        rows.append(done[0][1])
        _check_same_work(path, [n for _, n in done])
    gw, fl, noreset, validated = (_timing(n) for n in ns)
    # The paired ratios (same arguments, back to back) show whether the ratio itself drifted.
    ratio_spread = _halves_spread([g / f for g, f in zip(ns[0], ns[1], strict=True)])
    return PathResult(
        name=path.name, title=path.title, gatewaydb=gw, floor=fl, floor_noreset=noreset,
        validated=validated, ratio=gw.median_us / fl.median_us,
        ratio_noreset=gw.median_us / noreset.median_us,
        validated_ratio=validated.median_us / fl.median_us,
        spread=max(gw.halves_spread, fl.halves_spread, noreset.halves_spread,
                   validated.halves_spread, ratio_spread),
        rows=int(statistics.median(rows)), warmup=warmup, target=path.target)


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


async def throughput(path: HotPath, sides: Sequence[Call],
                     pick: Callable[[random.Random], Any], budget: Budget,
                     pool_size: int) -> Throughput:
    """Ops/s of gatewaydb and both floors with ``budget.concurrency`` tasks, in rotating
    rounds (the validated floor is left out: it runs on the default floor's pool)."""
    rng = random.Random(f"bench:{path.name}:throughput")
    cases = [pick(rng) for _ in range(1000)]
    calls = [0] * len(sides)
    seconds = [0.0] * len(sides)
    # A short untimed burst first: every pool connection open and its statements prepared.
    for call in sides:
        await _burst(call, cases, budget.concurrency, min(0.2, budget.throughput_seconds))
    for r in range(budget.throughput_rounds):
        # Rotate which side goes first, as the latency samples do.
        for k in range(len(sides)):
            side = (r + k) % len(sides)
            done, took = await _burst(sides[side], cases, budget.concurrency,
                                      budget.throughput_seconds)
            calls[side] += done
            seconds[side] += took
    gw_ops, fl_ops, noreset_ops = (c / s for c, s in zip(calls, seconds, strict=True))
    return Throughput(name=path.name, gatewaydb_ops_s=gw_ops, floor_ops_s=fl_ops,
                      floor_noreset_ops_s=noreset_ops, ratio=gw_ops / fl_ops,
                      ratio_noreset=gw_ops / noreset_ops, concurrency=budget.concurrency,
                      pool_size=pool_size, seconds=sum(seconds), target=path.throughput_target)


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
