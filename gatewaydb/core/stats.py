"""Per-statement counters and latency percentiles, cheap enough for every call."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from statistics import quantiles

__all__ = ["StatementStats", "StatsRecorder"]

# Percentiles come from the most recent calls: bounded memory, and they follow the present.
_WINDOW = 2048


@dataclass(frozen=True, slots=True)
class StatementStats:
    """A snapshot of one statement's calls; latencies in milliseconds.

    ``count`` counts every call, ``errors`` those that raised, ``cancelled`` those whose task
    was cancelled before they finished (counted in neither ``errors`` nor the latencies: a
    cancellation measures the caller's patience, not the server).
    """

    count: int
    errors: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cancelled: int = 0


@dataclass(slots=True)
class _Counter:
    count: int = 0
    errors: int = 0
    cancelled: int = 0
    total: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))


class StatsRecorder:
    """Collects durations by statement name; :meth:`snapshot` summarises them."""

    __slots__ = ("_counters",)

    def __init__(self) -> None:
        self._counters: dict[str, _Counter] = {}

    def record(self, name: str, seconds: float, *, failed: bool = False) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = _Counter()
        counter.count += 1
        counter.errors += failed
        counter.total += seconds
        counter.recent.append(seconds)

    def record_cancelled(self, name: str) -> None:
        """Count one call of ``name`` that was cancelled before it finished."""
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = _Counter()
        counter.count += 1
        counter.cancelled += 1

    def snapshot(self) -> dict[str, StatementStats]:
        """Summaries by statement name, sorted by name."""
        return {name: _summarise(c) for name, c in sorted(self._counters.items())}

    def clear(self) -> None:
        self._counters.clear()


def _summarise(counter: _Counter) -> StatementStats:
    recent = sorted(counter.recent)
    if len(recent) >= 2:
        cuts = quantiles(recent, n=100, method="inclusive")
        p50, p95, p99 = cuts[49], cuts[94], cuts[98]
    else:
        p50 = p95 = p99 = recent[0] if recent else 0.0
    timed = counter.count - counter.cancelled
    mean = counter.total / timed if timed else 0.0
    return StatementStats(counter.count, counter.errors, mean * 1e3, p50 * 1e3, p95 * 1e3,
                          p99 * 1e3, counter.cancelled)
