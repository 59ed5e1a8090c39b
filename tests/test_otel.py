"""OpenTelemetry spans and metrics (``gatewaydb.otel``) read back from the SDK's in-memory
exporter and metric reader, on this test's real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gatewaydb import ConflictError, Database
from gatewaydb.otel import OpenTelemetryObserver

pytestmark = pytest.mark.anyio

SECRET_EMAIL = "otel-secret@example.com"


class Telemetry:
    """An observer on its own SDK providers, with what they recorded."""

    def __init__(self) -> None:
        self.spans_out = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_out))
        self.reader = InMemoryMetricReader()
        self.observer = OpenTelemetryObserver(
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.reader]))

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.spans_out.get_finished_spans()
                if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        (found,) = self.spans(name)
        return found

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [point for rm in data.resource_metrics for sm in rm.scope_metrics
                for m in sm.metrics if m.name == metric for point in m.data.data_points]


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
async def traced(database_url: str, telemetry: Telemetry) -> AsyncIterator[Database]:
    async with Database(database_url, observers=[telemetry.observer]) as db:
        yield db


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_a_statement_is_one_client_span_with_the_conventions_attributes(
        traced: Database, telemetry: Telemetry, database_url: str) -> None:
    user = await traced.create_user(email=SECRET_EMAIL, name="Secret Name")
    assert await traced.get_user_by_id(user.id) == user
    span = telemetry.span("get_user_by_id")
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = _attributes(span)
    url = urlsplit(database_url)
    assert attributes["db.system.name"] == "postgresql"
    assert attributes["db.namespace"] == url.path.lstrip("/")
    assert attributes["db.query.summary"] == "get_user_by_id"
    assert attributes["db.operation.name"] == "SELECT"
    assert attributes["server.address"] == (url.hostname or dict(
        p.split("=", 1) for p in url.query.split("&"))["host"])
    assert isinstance(attributes["server.port"], int)
    text = attributes["db.query.text"]
    assert "FROM users" in text
    assert "$1" in text
    assert _attributes(telemetry.span("create_user"))["db.operation.name"] == "INSERT"
    # Parameter values are never on a span: not the email, name or id.
    for recorded in telemetry.spans():
        values = " ".join(str(v) for v in _attributes(recorded).values())
        assert SECRET_EMAIL not in values
        assert "Secret Name" not in values
        assert str(user.id) not in values
    assert span.end_time is not None
    assert span.start_time is not None
    assert span.end_time > span.start_time


async def test_a_failure_sets_the_sqlstate_and_error_status(
        traced: Database, telemetry: Telemetry) -> None:
    await traced.create_user(email="dup@example.com")
    with pytest.raises(ConflictError):
        await traced.create_user(email="dup@example.com")
    ok, failed = telemetry.spans("create_user")
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    attributes = _attributes(failed)
    assert attributes["db.response.status_code"] == "23505"
    assert attributes["error.type"] == "23505"
    assert "dup@example.com" not in str(failed.status.description)
    durations = telemetry.points("db.client.operation.duration")
    failed_points = [p for p in durations if p.attributes.get("error.type") == "23505"]
    assert [p.count for p in failed_points] == [1]


async def test_statements_in_a_transaction_are_children_of_its_span(
        traced: Database, telemetry: Telemetry) -> None:
    async with traced.transaction(isolation="repeatable_read") as tx:
        user = await tx.create_user(email="tx@example.com")
        await tx.get_user_by_id(user.id)
    with pytest.raises(ConflictError):
        async with traced.transaction() as tx:
            await tx.create_user(email="tx@example.com")
    committed, rolled_back = telemetry.spans("transaction")
    assert committed.kind is SpanKind.INTERNAL
    assert _attributes(committed)["gatewaydb.transaction.outcome"] == "commit"
    assert _attributes(committed)["gatewaydb.transaction.isolation"] == "repeatable_read"
    assert committed.status.status_code is StatusCode.UNSET
    inside = [s for s in telemetry.spans() if s.name in ("create_user", "get_user_by_id")]
    assert len(inside) == 3
    first_two = [s for s in inside if s.parent is not None
                 and s.parent.span_id == committed.context.span_id]
    assert {s.name for s in first_two} == {"create_user", "get_user_by_id"}
    (failed,) = [s for s in inside if s.status.status_code is StatusCode.ERROR]
    assert failed.parent is not None
    assert failed.parent.span_id == rolled_back.context.span_id
    assert failed.context.trace_id == rolled_back.context.trace_id
    assert rolled_back.status.status_code is StatusCode.ERROR
    assert _attributes(rolled_back)["gatewaydb.transaction.outcome"] == "rollback"
    assert _attributes(rolled_back)["db.response.status_code"] == "23505"
    # Outside the block nothing is parented to the transaction any more.
    await traced.get_user_by_id(user.id)
    assert telemetry.spans("get_user_by_id")[-1].parent is None


async def test_copy_and_a_stream_get_their_own_spans(
        traced: Database, telemetry: Telemetry, database_url: str) -> None:
    user = await traced.create_user(email="copy@example.com")
    asset = await traced.create_asset(user.id, "v.mp4", "gs://bucket/v.mp4")
    written = await traced.create_clips([{"asset_id": asset.id, "start_time": i,
                                          "end_time": i + 5} for i in range(3)])
    assert written == 3
    copy = telemetry.span("copy_clips")
    attributes = _attributes(copy)
    assert copy.kind is SpanKind.CLIENT
    assert attributes["db.operation.name"] == "COPY"
    assert attributes["db.collection.name"] == "clips"
    assert attributes["db.query.text"].startswith("COPY clips (")

    campaign = await traced.create_campaign(user.id, "Otel", "CONVERSIONS", 100)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(5):
        await traced.create_conversion(campaign.id, "META", 1, start + timedelta(hours=i),
                                       external_id=f"evt_{i}")
    seen = [c async for c in traced.iter_conversions(campaign.id, chunk_size=2)]
    assert len(seen) == 5
    stream = telemetry.span("iter_conversions")
    assert stream.kind is SpanKind.CLIENT
    assert _attributes(stream)["db.operation.name"] == "SELECT"
    assert stream.status.status_code is StatusCode.UNSET


async def test_a_cancelled_call_is_not_an_error(
        traced: Database, telemetry: Telemetry, database_url: str) -> None:
    user = await traced.create_user(email="cancel@example.com")
    blocker = await asyncpg.connect(database_url)
    try:
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await traced.get_user_by_id(user.id)
        await blocking.rollback()
    finally:
        await blocker.close()
    span = telemetry.span("get_user_by_id")
    assert span.status.status_code is StatusCode.UNSET
    assert _attributes(span)["gatewaydb.cancelled"] is True
    assert "error.type" not in _attributes(span)
    stats = traced.stats().statements["get_user_by_id"]
    assert (stats.count, stats.errors, stats.cancelled) == (1, 0, 1)
    timed = [p for p in telemetry.points("db.client.operation.duration")
             if p.attributes["db.query.summary"] == "get_user_by_id"]
    assert timed == []  # a cancellation measures the caller's patience, not the server


async def test_operation_duration_and_pool_metrics(
        traced: Database, telemetry: Telemetry) -> None:
    user = await traced.create_user(email="metrics@example.com")
    for _ in range(4):
        await traced.get_user_by_id(user.id)
    (by_id,) = [p for p in telemetry.points("db.client.operation.duration")
                if p.attributes["db.query.summary"] == "get_user_by_id"]
    assert isinstance(by_id, HistogramDataPoint)
    assert by_id.count == 4
    assert by_id.sum > 0
    assert by_id.attributes["db.system.name"] == "postgresql"
    assert by_id.attributes["db.operation.name"] == "SELECT"
    assert "db.query.text" not in by_id.attributes  # high cardinality: spans only

    counts = {p.attributes["db.client.connection.state"]: p.value
              for p in telemetry.points("db.client.connection.count")}
    pool = traced.stats().pool
    assert pool is not None
    assert counts == {"idle": pool.idle, "used": pool.in_use}
    (limit,) = telemetry.points("db.client.connection.max")
    assert limit.value == traced.settings.connection_limit
    (pending,) = telemetry.points("db.client.connection.pending_requests")
    assert pending.value == 0
    (waits,) = telemetry.points("db.client.connection.wait_time")
    assert waits.count >= 5  # one acquire per call
    names = {p.attributes["db.client.connection.pool.name"] for p in
             telemetry.points("db.client.connection.count")}
    assert names == {waits.attributes["db.client.connection.pool.name"]}


async def test_waiting_callers_are_pending_requests(database_url: str,
                                                    telemetry: Telemetry) -> None:
    async with Database(database_url, observers=[telemetry.observer],
                        connection_limit=1, min_connections=1) as db:
        async with db.transaction():  # holds the only connection
            waiting = [asyncio.create_task(db.health_check()) for _ in range(3)]
            await asyncio.sleep(0.05)
            (pending,) = telemetry.points("db.client.connection.pending_requests")
            assert pending.value == 3
            assert db.stats().pool is not None
            assert db.stats().pool.waiting == 3
        assert all(await asyncio.gather(*waiting))
        (after,) = telemetry.points("db.client.connection.pending_requests")
        assert after.value == 0
    # Disconnected: its pools are no longer read.
    assert telemetry.points("db.client.connection.count") == []


async def test_without_an_sdk_the_api_records_nothing_and_calls_work(
        database_url: str) -> None:
    async with Database(database_url, observers=[OpenTelemetryObserver()]) as db:
        user = await db.create_user(email="noop@example.com")
        async with db.transaction() as tx:
            assert await tx.get_user_by_id(user.id) == user


async def test_without_observers_there_is_no_dispatcher(db: Database) -> None:
    await db.health_check()
    assert db._pool_executor().engine.observers is None
    assert db._pool_executor().connections._observers is None
