"""Prepared statements on the pool, and the release path that skips asyncpg's reset query.

Every test uses a pool of one connection, so the next call provably gets the connection the
previous caller used; ``Database.acquire()`` observes the session as it was left (its own
full reset happens on release).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import anyio
import asyncpg
import pytest

from gatewaydb import ConflictError, Database, PoolTimeoutError, QueryCanceledError
from gatewaydb.core.errors import DatabaseError

pytestmark = pytest.mark.anyio


# Overrides conftest's ``db``: a pool of one connection, so each call reuses the previous one's.
@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with Database(database_url, connection_limit=1, pool_timeout=5) as database:
        yield database


async def _prepared(db: Database) -> list[asyncpg.Record]:
    async with db.acquire() as conn:
        return await conn.fetch(
            "SELECT statement, prepare_time FROM pg_prepared_statements ORDER BY statement")


async def test_each_statement_is_prepared_once_per_connection_and_reused(db: Database) -> None:
    await db.get_user_by_id(uuid4())
    first = [r for r in await _prepared(db) if "FROM users" in r["statement"]]
    for _ in range(20):  # twenty separate acquires of the same connection
        await db.get_user_by_id(uuid4())
        await db.get_user_by_email("nobody@example.com")
    later = [r for r in await _prepared(db) if "FROM users" in r["statement"]]
    assert len(first) == 1
    assert len(later) == 2
    by_id = next(r for r in later if "WHERE id = $1" in r["statement"])
    assert by_id["prepare_time"] == first[0]["prepare_time"]  # never re-prepared


async def test_pgbouncer_mode_leaves_no_named_statements(database_url: str) -> None:
    async with Database(database_url, connection_limit=1, statement_cache=False) as db:
        user = await db.create_user(email="pgb@example.com")
        assert await db.get_user_by_id(user.id) == user
        assert await _prepared(db) == []


async def test_raw_session_changes_do_not_reach_the_next_caller(db: Database) -> None:
    async with db.acquire() as conn:
        default_work_mem = await conn.fetchval("SHOW work_mem")
        await conn.execute("SET work_mem = '1234kB'")
        await conn.execute("LISTEN gateway_events")
        await conn.execute("SELECT pg_advisory_lock(42)")
    await db.get_user_by_id(uuid4())  # a pooled call in between, on the same connection
    async with db.acquire() as conn:
        assert await conn.fetchval("SHOW work_mem") == default_work_mem
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
        assert await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid()") == 0


async def test_set_local_and_raw_sql_in_a_transaction_do_not_leak(db: Database) -> None:
    async with db.acquire() as conn:
        default_work_mem = await conn.fetchval("SHOW work_mem")
    async with db.transaction() as tx:
        await tx.connection.execute("SET LOCAL work_mem = '2345kB'")
        await tx.connection.execute("SET statement_timeout = '99s'")
    async with db.acquire() as conn:
        assert await conn.fetchval("SHOW work_mem") == default_work_mem
        assert await conn.fetchval("SHOW statement_timeout") == "0"


async def test_an_aborted_transaction_is_rolled_back_before_reuse(db: Database) -> None:
    user = await db.create_user(email="abort@example.com")
    with pytest.raises(DatabaseError):
        async with db.transaction() as tx:
            await tx.update_user(user.id, name="inside")
            with pytest.raises(ConflictError):  # the error aborts the transaction
                await tx.create_user(email="abort@example.com")
            await tx.get_user_by_id(user.id)  # 25P02: the transaction is aborted
    fresh = await db.get_user_by_id(user.id)
    assert fresh is not None
    assert fresh.name is None
    async with db.acquire() as conn:
        assert not conn.is_in_transaction()


async def _hold_users_lock(database_url: str, locked: anyio.Event, release: anyio.Event) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            locked.set()
            await release.wait()
    finally:
        await conn.close()


async def test_cancelled_query_leaves_the_pool_healthy(db: Database, database_url: str) -> None:
    locked, release = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_hold_users_lock, database_url, locked, release)
        await locked.wait()
        with anyio.move_on_after(0.3) as scope:
            await db.get_user_by_id(uuid4())  # blocks on the lock until cancelled
        assert scope.cancelled_caught
        release.set()
    with anyio.fail_after(5):
        assert await db.get_user_by_id(uuid4()) is None
    stats = db.stats()
    assert stats.pool is not None
    assert stats.pool.in_use == 0


async def test_statement_timeout_is_a_typed_error_and_the_connection_survives(
        database_url: str) -> None:
    locked, release = anyio.Event(), anyio.Event()
    async with Database(database_url, connection_limit=1, statement_timeout=0.2) as db:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_hold_users_lock, database_url, locked, release)
            await locked.wait()
            with pytest.raises(QueryCanceledError) as caught:
                await db.get_user_by_id(uuid4())
            assert caught.value.sqlstate == "57014"
            release.set()
        assert await db.get_user_by_id(uuid4()) is None
        async with db.acquire() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "200ms"


async def test_reads_survive_a_migration_under_a_live_pool(db: Database,
                                                         database_url: str) -> None:
    user = await db.create_user(email="live@example.com")
    asset = await db.create_asset(user.id, "v.mp4", "gs://bucket/v.mp4")
    clip = await db.create_clip(asset.id, 0, 15)
    await db.update_clip_scoring(clip.id, score=0.9)
    assert [c.id for c in await db.get_top_clips(asset.id)] == [clip.id]  # now prepared
    before = await _prepared(db)
    migrator = await asyncpg.connect(database_url)
    try:
        await migrator.execute("ALTER TABLE clips ADD COLUMN thumbnail_url text")
        await migrator.execute("ALTER TABLE clips ADD COLUMN aspect real NOT NULL DEFAULT 1")
    finally:
        await migrator.close()
    for _ in range(3):  # outside a transaction, on the connection that prepared them
        assert [c.id for c in await db.get_top_clips(asset.id)] == [clip.id]
        assert await db.get_clip_by_id(clip.id) is not None
    async with db.transaction() as tx:
        assert [c.id for c in await tx.get_top_clips(asset.id)] == [clip.id]
        assert await tx.get_clip_by_id(clip.id) is not None
    async with db.transaction(isolation="repeatable_read") as tx:
        assert [c.id for c in await tx.list_clips(asset_id=asset.id)] == [clip.id]
    after = await _prepared(db)
    clip_statements = [r for r in before if "FROM clips" in r["statement"]]
    assert clip_statements
    for prepared in clip_statements:  # still there, same prepare_time: none re-prepared
        assert prepared in after


async def test_json_numeric_and_timestamps_arrive_as_python_types(db: Database) -> None:
    user = await db.create_user(email="types@example.com", settings={"a": [1, 2.5, None]})
    assert user.settings == {"a": [1, 2.5, None]}
    assert user.created_at.tzinfo is not None
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT '{\"k\": 1}'::json") == {"k": 1}
        numeric = await conn.fetchval("SELECT 12.50::numeric(14,2)")
    assert str(numeric) == "12.50"


async def test_a_waiting_caller_gets_the_connection_a_raw_user_returns(db: Database) -> None:
    got: list[object] = []
    done = anyio.Event()

    async def wait_for_connection() -> None:
        got.append(await db.get_user_by_id(uuid4()))
        done.set()

    async with anyio.create_task_group() as tg:
        async with db.acquire():
            tg.start_soon(wait_for_connection)
            await anyio.sleep(0.1)  # the caller is now queued for the only connection
            assert got == []
        with anyio.fail_after(2):  # handed over at once, not after pool_timeout (5 s)
            await done.wait()
    assert got == [None]


async def test_many_concurrent_calls_share_a_small_pool(database_url: str) -> None:
    async with Database(database_url, connection_limit=3) as db:
        user = await db.create_user(email="busy@example.com")
        results: list[object] = []

        async def lookup() -> None:
            results.append(await db.get_user_by_id(user.id))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(60):
                    tg.start_soon(lookup)
        assert results == [user] * 60
        pool = db.stats().pool
        assert pool is not None
        assert (pool.in_use, pool.max_size) == (0, 3)
        assert pool.size <= 3


async def test_failures_timeouts_and_cancelled_waiters_never_leak_a_connection(
        database_url: str) -> None:
    async with Database(database_url, connection_limit=1, pool_timeout=0.3) as db:
        await db.create_user(email="taken@example.com")
        for _ in range(5):  # failing calls give their connection back
            with pytest.raises(ConflictError):
                await db.create_user(email="taken@example.com")
        async with db.acquire():
            with pytest.raises(PoolTimeoutError):  # a waiter that gives up...
                await db.get_user_by_id(uuid4())
            with anyio.move_on_after(0.1):  # ...and one that is cancelled
                await db.get_user_by_id(uuid4())
        with anyio.fail_after(2):
            for _ in range(20):
                assert await db.get_user_by_id(uuid4()) is None
        pool = db.stats().pool
        assert pool is not None
        assert (pool.size, pool.in_use, pool.idle) == (1, 0, 1)
