"""Database lifecycle, health, stats, query logs, and the pool's failure modes."""

from __future__ import annotations

import contextlib
import inspect
import logging
from uuid import uuid4

import anyio
import asyncpg
import pytest

from gatewaydb import Database, DatabaseUnavailableError, PoolTimeoutError
from gatewaydb.core.errors import InterfaceError
from gatewaydb.core.stats import StatsRecorder

pytestmark = pytest.mark.anyio

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


async def test_connect_and_disconnect_are_idempotent_and_reconnectable(database_url: str) -> None:
    db = Database(database_url)
    with pytest.raises(InterfaceError, match="not connected yet"):
        await db.get_user_by_id(uuid4())
    await db.connect()
    await db.connect()
    assert db.is_connected()
    await db.disconnect()
    await db.disconnect()
    with pytest.raises(InterfaceError, match="disconnected"):
        await db.get_user_by_id(uuid4())
    await db.connect()
    assert await db.get_user_by_id(uuid4()) is None
    await db.disconnect()


async def test_unreachable_server_is_a_typed_error_and_health_check_is_false() -> None:
    db = Database(UNREACHABLE)
    with pytest.raises(DatabaseUnavailableError, match="cannot connect"):
        await db.connect()
    assert await db.health_check() is False
    report = await db.health()
    assert report.ok is False
    assert report.error


async def test_health_reports_version_latency_pool_and_migrations(database_url: str) -> None:
    async with Database(database_url) as db:
        assert await db.health_check() is True
        report = await db.health()
    assert report.ok
    assert report.server_version is not None
    assert report.server_version[0].isdigit()
    assert report.latency_ms is not None
    assert report.latency_ms > 0
    assert report.pool is not None
    assert report.pool.max_size == 10
    assert report.pending_migrations == []


async def test_pool_exhaustion_raises_pool_timeout(database_url: str) -> None:
    async with Database(database_url, connection_limit=1, pool_timeout=0.2) as db:
        async with db.acquire():
            with pytest.raises(PoolTimeoutError, match=r"pool_timeout=0\.2s"):
                await db.get_user_by_id(uuid4())
        assert await db.get_user_by_id(uuid4()) is None


async def test_a_killed_backend_is_reported_then_replaced(database_url: str) -> None:
    async with Database(database_url, connection_limit=1) as db:
        async with db.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        killer = await asyncpg.connect(database_url)
        try:
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await killer.close()
        await anyio.sleep(0.1)
        # The call that finds the dead connection may fail; the pool then drops it.
        with contextlib.suppress(DatabaseUnavailableError):
            await db.get_user_by_id(uuid4())
        assert await db.get_user_by_id(uuid4()) is None
        async with db.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") != pid


async def test_stats_count_calls_errors_and_percentiles(database_url: str) -> None:
    async with Database(database_url) as db:
        for _ in range(5):
            await db.get_user_by_id(uuid4())
        await db.create_user(email="dup@example.com")
        with pytest.raises(Exception):  # noqa: B017, PT011  any failure counts as an error
            await db.create_user(email="dup@example.com")
        stats = db.stats()
    by_id = stats.statements["get_user_by_id"]
    assert (by_id.count, by_id.errors) == (5, 0)
    assert 0 < by_id.p50_ms <= by_id.p95_ms <= by_id.p99_ms
    assert (stats.statements["create_user"].count, stats.statements["create_user"].errors) == (2, 1)


def test_stats_percentiles_cover_the_last_2048_finished_calls_as_the_readme_says() -> None:
    # The README: count every call; mean_ms over all but cancelled ones; p50/p95/p99 over
    # the most recent 2,048 finished calls, failed ones included, cancelled ones not.
    recorder = StatsRecorder()
    for _ in range(2048):
        recorder.record("q", 0.100)  # 100 ms, then pushed out of the window by...
    for n in range(2048):
        recorder.record("q", 0.001, failed=n % 2 == 0)  # ...2,048 calls of 1 ms, half failed
    recorder.record_cancelled("q")
    stats = recorder.snapshot()["q"]
    assert (stats.count, stats.errors, stats.cancelled) == (4097, 1024, 1)
    assert stats.p50_ms == stats.p95_ms == stats.p99_ms == pytest.approx(1.0)
    assert stats.mean_ms == pytest.approx(50.5)  # (2048 * 100 + 2048 * 1) / 4096
    for _ in range(100):  # the newest are in: 100 of the 2,048 now take 100 ms
        recorder.record("q", 0.100)
    assert recorder.snapshot()["q"].p99_ms == pytest.approx(100.0)


async def test_db_stats_is_synchronous_and_has_the_documented_fields(db: Database) -> None:
    await db.get_user_by_id(uuid4())
    stats = db.stats()  # no await: a plain method
    assert not inspect.isawaitable(stats)
    assert set(stats.statements["get_user_by_id"].__dataclass_fields__) == {
        "count", "errors", "cancelled", "mean_ms", "p50_ms", "p95_ms", "p99_ms"}
    assert stats.pool is not None
    assert {"size", "in_use", "idle", "max_size"} <= set(stats.pool.model_dump())
    assert stats.servers == []  # rows only with replicas


async def test_queries_are_logged_with_name_and_duration_never_secrets(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gatewaydb.query")
    async with Database(database_url, log_parameters=True) as db:
        await db.create_user(email="logs@example.com", api_key="secret-key-123")
        await db.get_user_by_email("logs@example.com")
        await db.get_user_by_api_key("secret-key-123")
    text = caplog.text
    assert "get_user_by_email" in text
    assert "'logs@example.com'" in text  # parameters shown when enabled...
    assert "secret-key-123" not in text  # ...but never a key
    from gatewaydb.gateway.users import api_key_digest

    digest = api_key_digest("secret-key-123")
    assert digest.hex() not in text
    assert repr(digest) not in text


async def test_slow_statements_are_logged_at_warning(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gatewaydb.query")
    async with Database(database_url, slow_query_threshold=1e-9) as db:
        await db.get_user_by_id(uuid4())
    assert any(r.levelno == logging.WARNING and "slow statement get_user_by_id" in r.message
               for r in caplog.records)
