"""``db.health()`` tells the truth in one round trip; ``connect()`` says when to migrate."""

from __future__ import annotations

import asyncpg
import pytest

from gatewaydb import Database, SchemaMismatchError
from gatewaydb.app import migrate
from gatewaydb.core.health import migration_ids
from gatewaydb.gateway._paths import migrations_dir
from gatewaydb.gateway.models import ContractState, HealthStatus

pytestmark = pytest.mark.anyio

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


async def _backends(url: str) -> set[int]:
    """The server processes connected to ``url``'s database, seen from a connection of its own."""
    observer = await asyncpg.connect(url)
    try:
        rows = await observer.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")
        return {r["pid"] for r in rows}
    finally:
        await observer.close()


async def test_health_is_one_statement_on_the_apps_own_pool(database_url: str) -> None:
    async with Database(database_url, connection_limit=1, min_connections=1) as db:
        before = await _backends(database_url)
        counts = {name: s.count for name, s in db.stats().statements.items()}
        report = await db.health()
        after = {name: s.count for name, s in db.stats().statements.items()}
        assert await _backends(database_url) == before  # no second connection, ever
    assert report.status is HealthStatus.HEALTHY
    assert report.ok
    assert report.reasons == []
    assert report.pending_migrations == []
    assert report.contract is ContractState.OK  # connect() ran the contract check
    ran = {name: after[name] - counts.get(name, 0) for name in after
           if after[name] != counts.get(name, 0)}
    assert ran == {"migration_state": 1}
    assert report.servers[0].role == "primary"
    assert report.servers[0].latency_ms == report.latency_ms


async def test_health_is_degraded_while_migrations_are_pending(database_url: str) -> None:
    latest = migration_ids(migrations_dir())[-1]
    migrate.rollback(database_url)
    async with Database(database_url, check_schema=False) as db:
        report = await db.health()
        checked = await db.health(check_contract=True)
    assert report.status is HealthStatus.DEGRADED
    assert not report.ok
    assert report.pending_migrations == [latest]
    assert report.reasons == ["1 migration pending — run `gatewaydb migrate`"]
    assert report.contract is ContractState.NOT_CHECKED
    assert checked.contract is ContractState.FAILED
    assert len(checked.reasons) == 2
    assert "against the live schema" in checked.reasons[1]


async def test_health_of_a_database_yoyo_never_touched(empty_database_url: str) -> None:
    async with Database(empty_database_url, check_schema=False) as db:
        report = await db.health()
    assert report.status is HealthStatus.DEGRADED
    assert report.pending_migrations == migration_ids(migrations_dir())
    assert report.server_version


async def test_health_of_a_database_that_is_not_connected() -> None:
    db = Database(UNREACHABLE)
    report = await db.health()
    assert report.status is HealthStatus.UNHEALTHY
    assert report.error is not None
    assert not report.servers[0].reachable


async def test_connect_says_how_many_migrations_are_pending(database_url: str,
                                                            empty_database_url: str) -> None:
    migrate.rollback(database_url)
    with pytest.raises(SchemaMismatchError) as one:
        await Database(database_url).connect()
    assert str(one.value).startswith("1 migration pending — run `gatewaydb migrate`")
    assert one.value.pending_migrations == (migration_ids(migrations_dir())[-1],)
    assert one.value.problems

    count = len(migration_ids(migrations_dir()))
    with pytest.raises(SchemaMismatchError) as every:
        await Database(empty_database_url).connect()
    assert str(every.value).startswith(f"{count} migrations pending — run `gatewaydb migrate`")


async def test_a_drifted_schema_without_pending_migrations_is_not_blamed_on_them(
        database_url: str) -> None:
    async with Database(database_url) as db, db.acquire() as conn:
        await conn.execute("ALTER TABLE users RENAME COLUMN name TO full_name")
    with pytest.raises(SchemaMismatchError) as caught:
        await Database(database_url).connect()
    assert caught.value.pending_migrations == ()
    assert "pending" not in str(caught.value).splitlines()[0]
