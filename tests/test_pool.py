"""The pool hands out only live connections, recycles them as configured, and survives
killed backends and random cancellations with its counters intact."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable
from uuid import uuid4

import anyio
import asyncpg
import pytest

from gatewaydb import Database, DatabaseUnavailableError, NotFoundError, Settings, Transaction

pytestmark = pytest.mark.anyio


async def _backends(url: str, application: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [r["pid"] for r in await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 "
            "AND datname = current_database()", application)]
    finally:
        await conn.close()


async def _terminate(url: str, pids: list[int]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for pid in pids:  # the timeout makes the call wait until the backend has exited
            await conn.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await conn.close()


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    """Wait until ``check()`` holds (the server or asyncpg finishes in the background)."""
    with anyio.fail_after(seconds):
        while True:
            if await check():
                return
            await anyio.sleep(0.02)


async def _warm(db: Database, calls: int) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(calls):
            tg.start_soon(db.get_user_by_id, uuid4())


async def test_after_the_server_drops_every_idle_connection_the_next_20_calls_succeed(
        database_url: str) -> None:
    async with Database(database_url, connection_limit=4, application_name="gw-drop") as db:
        await _warm(db, 16)
        pids = await _backends(database_url, "gw-drop")
        assert len(pids) >= 2
        await _terminate(database_url, pids)
        for i in range(10):  # writes and reads alternate: none may fail
            user = await db.create_user(email=f"after-{i}@example.com")
            assert await db.get_user_by_id(user.id) == user
        assert not set(pids) & set(await _backends(database_url, "gw-drop"))


@pytest.mark.parametrize("where", ["between writes", "before commit", "callback"])
async def test_a_backend_killed_inside_a_transaction_is_unavailable_and_writes_nothing(
        database_url: str, where: str) -> None:
    async with Database(database_url, connection_limit=2, application_name="gw-txkill") as db:
        for round_ in range(5):
            email = f"{where.replace(' ', '-')}-{round_}@example.com"

            async def body(tx: Transaction, email: str = email) -> None:
                await tx.create_user(email=email)
                await _terminate(database_url, await _backends(database_url, "gw-txkill"))
                if where != "before commit":
                    await tx.create_user(email=f"second-{email}")

            with pytest.raises(DatabaseUnavailableError):
                if where == "callback":
                    await db.transaction(body, retries=3)
                else:
                    async with db.transaction() as tx:
                        await body(tx)
            assert await db.get_user_by_email(email) is None
            assert await db.get_user_by_email(f"second-{email}") is None


async def test_random_cancellations_leave_nothing_open_and_are_counted(
        database_url: str) -> None:
    rng = random.Random(10)
    async with Database(database_url, connection_limit=4, application_name="gw-cancel") as db:
        user = await db.create_user(email="cancel@example.com")

        async def in_transaction() -> None:
            async with db.transaction() as tx:
                await tx.update_user(user.id, name="x")  # statements the plain calls
                await tx.get_user_by_email(user.email)  # do not use: counted apart

        plain: list[Callable[[], Awaitable[object]]] = [
            lambda: db.get_user_by_id(user.id), lambda: db.list_users(take=5),
            lambda: db.increment_campaign_metrics(uuid4(), clicks=1)]
        cancelled_plain = 0
        cancelled_total = 0

        async def one(index: int) -> None:
            nonlocal cancelled_plain, cancelled_total
            in_tx = index % 3 == 0
            with anyio.move_on_after(rng.uniform(0, 0.004)) as scope:
                with contextlib.suppress(NotFoundError):  # the campaign does not exist
                    await (in_transaction() if in_tx else rng.choice(plain)())
            if scope.cancelled_caught:
                cancelled_total += 1
                cancelled_plain += not in_tx

        # How many calls a random deadline catches depends on the machine's speed: go on in
        # rounds of 8 until 500 were cancelled (bounded: 8,000 calls at most).
        start = 0
        while cancelled_total < 500 and start < 8000:
            async with anyio.create_task_group() as tg:
                for index in range(start, start + 8):
                    tg.start_soon(one, index)
            start += 8
        assert cancelled_total >= 500

        async def settled() -> bool:  # asyncpg finishes cancelled calls in the background
            pool = db.stats().pool
            return pool is not None and pool.in_use == 0

        await _until(settled)
        pool = db.stats().pool
        assert pool is not None
        assert pool.size == pool.idle
        assert pool.size <= pool.max_size
        executor = db._pool_executor().connections
        assert executor._taken == len(executor._idle)
        stats = db.stats().statements
        counted = {name: s.cancelled for name, s in stats.items()}
        plain_names = ("get_user_by_id", "list_users", "increment_campaign_metrics")
        assert sum(counted.get(name, 0) for name in plain_names) == cancelled_plain
        assert sum(counted.values()) >= cancelled_plain
        conn = await asyncpg.connect(database_url)
        try:
            assert await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gw-cancel' "
                "AND state LIKE 'idle in transaction%'") == 0
        finally:
            await conn.close()
        assert await db.get_user_by_id(user.id) is not None


async def test_a_connection_is_replaced_after_max_queries(database_url: str) -> None:
    async with Database(database_url, connection_limit=1, max_queries=3) as db:
        pids = []
        for _ in range(3):
            async with db.acquire() as conn:
                pids.append(await conn.fetchval("SELECT pg_backend_pid()"))
            for _ in range(3):
                await db.get_user_by_id(uuid4())
        assert len(set(pids)) == 3


async def test_idle_connections_beyond_min_connections_are_closed(database_url: str) -> None:
    async with Database(database_url, connection_limit=4, min_connections=1,
                        idle_timeout=0.2, application_name="gw-idle") as db:
        await _warm(db, 16)
        assert len(await _backends(database_url, "gw-idle")) > 1
        async def one_left() -> bool:
            return len(await _backends(database_url, "gw-idle")) == 1

        await _until(one_left)
        assert await db.get_user_by_id(uuid4()) is None


async def test_expire_connections_replaces_idle_and_busy_ones(database_url: str) -> None:
    async with Database(database_url, connection_limit=3, application_name="gw-exp") as db:
        await _warm(db, 9)
        async with db.transaction() as tx:
            busy = await tx.connection.fetchval("SELECT pg_backend_pid()")
            before = set(await _backends(database_url, "gw-exp"))
            await db.expire_connections()
            await tx.get_user_by_id(uuid4())  # the busy one keeps working until it returns
        await _warm(db, 9)
        async def all_replaced() -> bool:
            return not set(await _backends(database_url, "gw-exp")) & before

        await _until(all_replaced)
        assert busy in before


async def test_a_connection_kept_past_acquire_cannot_reach_the_next_caller(
        db: Database) -> None:
    async with db.acquire() as leaked:
        assert await leaked.fetchval("SELECT 1") == 1
    with pytest.raises(asyncpg.InterfaceError, match="released back to the pool"):
        await leaked.fetchval("SELECT 1")
    async with db.transaction() as tx:
        raw = tx.connection
    with pytest.raises(asyncpg.InterfaceError, match="released back to the pool"):
        await raw.fetchval("SELECT 1")
    assert await db.get_user_by_id(uuid4()) is None


def test_pool_settings_come_from_the_url_or_keywords() -> None:
    url = "postgresql://u@h/d?idle_timeout=30&max_queries=100"
    settings = Settings.from_url(url)
    assert (settings.idle_timeout, settings.max_queries) == (30.0, 100)
    assert "idle_timeout" not in settings.dsn
    assert Settings.from_url("postgresql://u@h/d", max_queries=7).max_queries == 7
    assert (Settings.from_url("postgresql://h/d").idle_timeout,
            Settings.from_url("postgresql://h/d").max_queries) == (300.0, 50_000)


def test_passwords_are_masked_in_the_userinfo_and_the_query_string() -> None:
    settings = Settings.from_url("postgresql://ann:s3cret@h/d?password=other&sslmode=require")
    shown = settings.public_dsn()
    assert "s3cret" not in shown
    assert "other" not in shown
    assert shown.startswith("postgresql://ann:***@h/d?")
    assert "sslmode=require" in shown
