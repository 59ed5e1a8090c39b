"""A ``prometheus_client`` collector for a :class:`~gatewaydb.Database` (``gatewaydb[prometheus]``).

It is an observer (counting every statement as it ends) and a collector (building the
series at each scrape, pool gauges read then)::

    from prometheus_client import REGISTRY
    from gatewaydb.prometheus import PrometheusCollector

    metrics = PrometheusCollector()
    db = Database(url, observers=[metrics])
    REGISTRY.register(metrics)

=============================================  =========  ==================================
series                                         type       labels
=============================================  =========  ==================================
``gatewaydb_statement_calls_total``            counter    ``statement``, ``server``
``gatewaydb_statement_errors_total``           counter    ``statement``, ``server``
``gatewaydb_statement_cancelled_total``        counter    ``statement``, ``server``
``gatewaydb_statement_duration_seconds``       histogram  ``statement``, ``server``
``gatewaydb_pool_size``                        gauge      ``server``
``gatewaydb_pool_in_use``                      gauge      ``server``
``gatewaydb_pool_idle``                        gauge      ``server``
``gatewaydb_pool_waiters``                     gauge      ``server``
``gatewaydb_pool_max_size``                    gauge      ``server``
``gatewaydb_pool_wait_seconds``                histogram  ``server``
=============================================  =========  ==================================

``calls`` counts every call, errors and cancellations included (as :meth:`Database.stats`
does); the duration histogram times completed and failed calls, never cancelled ones. A COPY
is the statement ``copy_<table>``. ``server`` is ``primary``, or ``replica1``... for the
replica that ran a routed read: with replicas every server has its own series.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .core import Observer, PoolSource, StatementEvent, WaitEvent

__all__ = ["PrometheusCollector"]

_DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                     2.5, 5.0, 10.0)
_WAIT_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)


class _Histogram:
    __slots__ = ("buckets", "counts", "sum")

    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        total, out = 0, []
        for bound, count in zip((*map(str, self.buckets), "+Inf"), self.counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out


class _Statement:
    __slots__ = ("calls", "cancelled", "duration", "errors")

    def __init__(self, buckets: Sequence[float]) -> None:
        self.calls = self.errors = self.cancelled = 0
        self.duration = _Histogram(buckets)


class PrometheusCollector(Observer, Collector):
    """Statement counters and latencies, and pool gauges, of the databases it observes.

    Give it to ``Database(observers=[...])`` and register it on a ``CollectorRegistry``.
    Scrapes may come from another thread (``prometheus_client.start_http_server``): counts
    are copied under a lock.

    Args:
        duration_buckets: upper bounds (seconds) of the statement duration histogram;
            default 0.5 ms to 10 s.
        wait_buckets: upper bounds (seconds) of the connection wait histogram; default
            0.1 ms to 10 s.
    """

    def __init__(self, *, duration_buckets: Sequence[float] = _DURATION_BUCKETS,
                 wait_buckets: Sequence[float] = _WAIT_BUCKETS) -> None:
        self.duration_buckets = tuple(sorted(duration_buckets))
        self.wait_buckets = tuple(sorted(wait_buckets))
        self._statements: dict[tuple[str, str], _Statement] = {}
        self._waits: dict[str, _Histogram] = {}
        self._sources: list[PoolSource] = []
        self._lock = threading.Lock()

    # -- the observer (event loop) -------------------------------------------------------

    def connected(self, source: PoolSource) -> None:
        with self._lock:
            self._sources.append(source)

    def disconnected(self, source: PoolSource) -> None:
        with self._lock:
            self._sources = [s for s in self._sources if s is not source]

    def statement(self, event: StatementEvent) -> None:
        key = (event.name, event.server.name)
        with self._lock:
            counts = self._statements.get(key)
            if counts is None:
                counts = self._statements[key] = _Statement(self.duration_buckets)
            counts.calls += 1
            if event.outcome == "cancelled":
                counts.cancelled += 1
                return
            if event.outcome == "error":
                counts.errors += 1
            counts.duration.observe(event.duration)

    def connection_wait(self, event: WaitEvent) -> None:
        with self._lock:
            histogram = self._waits.get(event.server.name)
            if histogram is None:
                histogram = self._waits[event.server.name] = _Histogram(self.wait_buckets)
            histogram.observe(event.duration)

    # -- the collector (any thread) ------------------------------------------------------

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily
                                  | HistogramMetricFamily]:
        labels = ["statement", "server"]
        calls = CounterMetricFamily("gatewaydb_statement_calls",
                                    "Statement calls, errors and cancellations included.",
                                    labels=labels)
        errors = CounterMetricFamily("gatewaydb_statement_errors",
                                     "Statement calls that raised.", labels=labels)
        cancelled = CounterMetricFamily("gatewaydb_statement_cancelled",
                                        "Statement calls whose task was cancelled.",
                                        labels=labels)
        duration = HistogramMetricFamily("gatewaydb_statement_duration_seconds",
                                         "Statement duration (completed and failed calls).",
                                         labels=labels)
        waits = HistogramMetricFamily("gatewaydb_pool_wait_seconds",
                                      "Time callers waited for a pooled connection.",
                                      labels=["server"])
        with self._lock:
            for (name, server), counts in sorted(self._statements.items()):
                calls.add_metric([name, server], counts.calls)
                errors.add_metric([name, server], counts.errors)
                cancelled.add_metric([name, server], counts.cancelled)
                duration.add_metric([name, server], counts.duration.cumulative(),
                                    counts.duration.sum)
            for server, histogram in sorted(self._waits.items()):
                waits.add_metric([server], histogram.cumulative(), histogram.sum)
            sources = list(self._sources)
        yield from (calls, errors, cancelled, duration, waits)
        yield from self._pool_gauges(sources)

    @staticmethod
    def _pool_gauges(sources: list[PoolSource]) -> Iterator[GaugeMetricFamily]:
        gauges = {field: GaugeMetricFamily(f"gatewaydb_pool_{name}", text, labels=["server"])
                  for field, name, text in (
                      ("size", "size", "Open pooled connections."),
                      ("in_use", "in_use", "Pooled connections in use."),
                      ("idle", "idle", "Idle pooled connections."),
                      ("waiting", "waiters", "Callers waiting for a connection."),
                      ("max_size", "max_size", "Most pooled connections."))}
        for source in sources:
            for pool in source.pools():
                for field, gauge in gauges.items():
                    gauge.add_metric([pool.server.name], getattr(pool.status, field))
        yield from gauges.values()
