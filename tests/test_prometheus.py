"""The Prometheus collector (``gatewaydb.prometheus``): scraped with ``generate_latest()`` from
a fresh registry after real calls; with a replica, every server has its own series."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from servers import GATEWAY

from gatewaydb import ConflictError, Database
from gatewaydb.app.cluster import Cluster
from gatewaydb.core import Endpoint
from gatewaydb.otel import OpenTelemetryObserver
from gatewaydb.prometheus import PrometheusCollector

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def collector() -> PrometheusCollector:
    return PrometheusCollector()


@pytest.fixture
def registry(collector: PrometheusCollector) -> CollectorRegistry:
    fresh = CollectorRegistry()
    fresh.register(collector)
    return fresh


@pytest.fixture
async def observed(database_url: str, collector: PrometheusCollector
                   ) -> AsyncIterator[Database]:
    async with Database(database_url, observers=[collector], connection_limit=4) as db:
        yield db


async def test_statement_counters_and_latency_histogram(
        observed: Database, registry: CollectorRegistry, collector: PrometheusCollector
) -> None:
    user = await observed.create_user(email="prom@example.com")
    for _ in range(3):
        await observed.get_user_by_id(user.id)
    with pytest.raises(ConflictError):
        await observed.create_user(email="prom@example.com")
    samples = _scrape(registry)
    by_id = {"statement": "get_user_by_id", "server": "primary"}
    create = {"statement": "create_user", "server": "primary"}
    assert _value(samples, "gatewaydb_statement_calls_total", **by_id) == 3
    assert _value(samples, "gatewaydb_statement_errors_total", **by_id) == 0
    assert _value(samples, "gatewaydb_statement_calls_total", **create) == 2
    assert _value(samples, "gatewaydb_statement_errors_total", **create) == 1
    assert _value(samples, "gatewaydb_statement_cancelled_total", **create) == 0
    assert _value(samples, "gatewaydb_statement_duration_seconds_count", **by_id) == 3
    assert _value(samples, "gatewaydb_statement_duration_seconds_sum", **by_id) > 0
    buckets = [_value(samples, "gatewaydb_statement_duration_seconds_bucket", **by_id,
                      le=str(bound)) for bound in collector.duration_buckets]
    assert buckets == sorted(buckets)  # cumulative
    assert _value(samples, "gatewaydb_statement_duration_seconds_bucket", **by_id,
                  le="+Inf") == 3
    # Each of the 5 calls waited for a connection (0 s when one was idle).
    assert _value(samples, "gatewaydb_pool_wait_seconds_count", server="primary") == 5


async def test_pool_gauges_follow_the_pool(observed: Database,
                                           registry: CollectorRegistry) -> None:
    await observed.health_check()
    pool = observed.stats().pool
    assert pool is not None
    samples = _scrape(registry)
    assert _value(samples, "gatewaydb_pool_size", server="primary") == pool.size
    assert _value(samples, "gatewaydb_pool_idle", server="primary") == pool.idle
    assert _value(samples, "gatewaydb_pool_in_use", server="primary") == 0
    assert _value(samples, "gatewaydb_pool_max_size", server="primary") == 4
    assert _value(samples, "gatewaydb_pool_waiters", server="primary") == 0
    async with observed.transaction():
        samples = _scrape(registry)
        assert _value(samples, "gatewaydb_pool_in_use", server="primary") == 1


async def test_a_cancelled_call_is_counted_apart(
        observed: Database, registry: CollectorRegistry, database_url: str) -> None:
    async with Database(database_url, connection_limit=1) as other, other.transaction() as tx:
        # An exclusive lock makes the observed database's read wait until cancelled.
        await tx.connection.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        with anyio.move_on_after(0.3):
            await observed.get_user_by_email("nobody@example.com")
    samples = _scrape(registry)
    labels = {"statement": "get_user_by_email", "server": "primary"}
    assert _value(samples, "gatewaydb_statement_calls_total", **labels) == 1
    assert _value(samples, "gatewaydb_statement_cancelled_total", **labels) == 1
    assert _value(samples, "gatewaydb_statement_errors_total", **labels) == 0
    assert _value(samples, "gatewaydb_statement_duration_seconds_count", **labels) == 0


async def test_a_disconnected_database_has_no_pool_series(
        database_url: str, collector: PrometheusCollector,
        registry: CollectorRegistry) -> None:
    async with Database(database_url, observers=[collector]) as db:
        await db.health_check()
        assert ("gatewaydb_pool_size", frozenset({("server", "primary")})) in _scrape(registry)
    samples = _scrape(registry)
    assert not [key for key in samples if key[0] == "gatewaydb_pool_size"]
    # What it counted stays: counters never go back.
    assert _value(samples, "gatewaydb_statement_calls_total", statement="meta_ping",
                  server="primary") == 1


@pytest.mark.slow
async def test_with_a_replica_each_server_has_its_series(standby_ready: Cluster) -> None:
    cluster = standby_ready
    collector = PrometheusCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel = OpenTelemetryObserver(tracer_provider=tracer_provider, metrics=False)
    replica_url = cluster.standbys[0].url(GATEWAY)
    async with Database(cluster.primary.url(GATEWAY), replicas=[replica_url],
                        max_replica_lag=5.0, observers=[collector, otel]) as db:
        user = await db.create_user(email="replica-metrics@example.com")

        async def read_elsewhere() -> None:  # a fresh task: no write position to wait for
            await db.get_user_by_id(user.id)

        deadline = asyncio.get_running_loop().time() + 20
        while True:
            await asyncio.create_task(read_elsewhere())
            reads = next(s for s in db.stats().servers if s.role == "replica").reads
            if reads or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert reads >= 1
        samples = _scrape(registry)
        polls = db.stats().statements["meta_replica_status"].count
    for server in ("primary", "replica1"):
        assert _value(samples, "gatewaydb_pool_max_size", server=server) == 10
    assert _value(samples, "gatewaydb_statement_calls_total", statement="create_user",
                  server="primary") == 1
    assert _value(samples, "gatewaydb_statement_calls_total", statement="get_user_by_id",
                  server="replica1") == reads
    # The router's background polls (every 0.1 s) are not the service's calls; the WAL
    # position read after the service's one write is.
    assert not [key for key in samples if dict(key[1]).get("statement") == "meta_replica_status"]
    assert _value(samples, "gatewaydb_statement_calls_total", statement="meta_wal_lsn",
                  server="primary") == 1
    assert polls > 0  # they ran
    # The replica's span names the replica's address.
    replica = Endpoint.from_dsn("replica1", replica_url)
    primary = Endpoint.from_dsn("primary", cluster.primary.url(GATEWAY))
    spans = exporter.get_finished_spans()
    read_spans = [s for s in spans if s.name == "get_user_by_id"]
    write_span = next(s for s in spans if s.name == "create_user")
    assert (read_spans[-1].attributes or {})["server.address"] == replica.address
    assert (read_spans[-1].attributes or {})["server.port"] == replica.port
    assert (write_span.attributes or {})["server.port"] == primary.port
    assert replica.port != primary.port or replica.address != primary.address
