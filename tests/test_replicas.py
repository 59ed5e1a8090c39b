"""Read replicas on a real primary + streaming standby (``servers.cluster``).

Reads outside transactions reach the standby (by the standby's own counters); a task reads its
own writes even while the standby applies WAL 500 ms late; a lagging or stopped standby takes
no reads and fails no call; ``db.primary()`` pins; health and stats list each server.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

import anyio
import asyncpg
import pytest
from servers import GATEWAY

from gatewaydb import Database
from gatewaydb.app.cli import main
from gatewaydb.app.cluster import Cluster
from gatewaydb.core import routing
from gatewaydb.core.pool_executor import is_read_only
from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir
from gatewaydb.gateway.models import ServerStatus, User

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROUNDS = 200
TASKS = 8


@pytest.fixture
async def db(standby_ready: Cluster) -> AsyncIterator[Database]:
    """A database on the cluster's primary with its standby as the one replica."""
    cluster = standby_ready
    async with Database(cluster.primary.url(GATEWAY),
                        replicas=[cluster.standbys[0].url(GATEWAY)], max_replica_lag=1.0,
                        connection_limit=TASKS) as database:
        yield database


def _server(db: Database, role: str) -> ServerStatus:
    return next(s for s in db.stats().servers if s.role == role)


async def _wait_for(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Poll ``condition()`` (sync or async) every 20 ms until true, for up to 20 s."""
    deadline = time.monotonic() + 20.0
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await anyio.sleep(0.02)


async def _create_elsewhere(db: Database, email: str) -> User:
    """Create a user in a child task: this task's reads carry no write position."""
    made: list[User] = []

    async def create() -> None:
        made.append(await db.create_user(email=email))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(create)
    return made[0]


async def _on_replica(cluster: Cluster, user_id: UUID) -> bool:
    conn = await asyncpg.connect(cluster.standbys[0].url(GATEWAY))
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM users WHERE id = $1", user_id))
    finally:
        await conn.close()


async def _user_index_scans(url: str) -> int:
    """The server's own count of index scans on users (flushed when sessions end)."""
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'users'"))
    finally:
        await conn.close()


def test_read_only_is_derived_from_the_sql() -> None:
    # The router uses the pool's rule (the one that lets a read run again): one classifier.
    registry = Registry.load(sql_dir())
    names = set(registry) & set(Database().declarations())
    reads = {n for n in names if is_read_only(registry[n].sql)}
    for name in names - reads:
        assert any(w in registry[name].sql.upper() for w in ("INSERT", "UPDATE", "DELETE")), name
    assert {"get_user_by_id", "get_top_clips", "list_conversions", "iter_conversions",
            "campaign_stats"} <= reads
    assert not {"create_user", "update_user", "soft_delete_user", "create_conversion",
                "select_experiment_winner"} & reads
    assert not is_read_only("SELECT nextval('s')")
    assert not is_read_only("WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d")
    assert not is_read_only("SELECT id FROM t FOR UPDATE")
    assert is_read_only("SELECT 'insert into' AS text -- update\n")


async def test_reads_reach_the_replica(db: Database, standby_ready: Cluster) -> None:
    cluster = standby_ready
    user = await _create_elsewhere(db, "reach@example.com")
    await _wait_for(lambda: _on_replica(cluster, user.id), "the user on the standby")
    before = {n.name: await _user_index_scans(n.url(GATEWAY)) for n in cluster.nodes}
    for _ in range(100):
        assert await db.get_user_by_id(user.id) == user
    replica, primary = _server(db, "replica"), _server(db, "primary")
    assert (replica.reads, primary.reads) == (100, 0)
    await db.disconnect()  # sessions end, and flush their statistics
    standby = cluster.standbys[0]
    await _wait_for(lambda: _scans_at_least(standby.url(GATEWAY), before[standby.name] + 100),
                    "the standby's index-scan counter")
    assert await _user_index_scans(cluster.primary.url(GATEWAY)) < before["primary"] + 100


async def _scans_at_least(url: str, count: int) -> bool:
    return await _user_index_scans(url) >= count


async def test_read_your_writes_with_a_500ms_apply_delay(db: Database,
                                                         standby_ready: Cluster) -> None:
    cluster = standby_ready
    cluster.standbys[0].configure(recovery_min_apply_delay="500ms")
    violations = 0
    stale_on_replica = 0
    replica = await asyncpg.create_pool(cluster.standbys[0].url(GATEWAY), min_size=1,
                                        max_size=TASKS)

    async def rounds(n: int) -> None:
        nonlocal violations, stale_on_replica
        user = await db.create_user(email=f"ryw{n}@example.com")
        for i in range(ROUNDS // TASKS):
            await db.update_user(user.id, name=f"name {i}")
            read = await db.get_user_by_id(user.id)
            violations += read is None or read.name != f"name {i}"
            # Straight from the standby, the same read is behind: the delay is real.
            behind = await replica.fetchval("SELECT name FROM users WHERE id = $1", user.id)
            stale_on_replica += behind != f"name {i}"

    try:
        async with anyio.create_task_group() as tasks:
            for n in range(TASKS):
                tasks.start_soon(rounds, n)
    finally:
        await replica.close()
    assert violations == 0
    assert stale_on_replica > ROUNDS // 2


async def test_a_child_task_reads_its_parents_writes(db: Database,
                                                     standby_ready: Cluster) -> None:
    standby_ready.standbys[0].configure(recovery_min_apply_delay="500ms")
    user = await db.create_user(email="parent@example.com", name="before")
    await db.update_user(user.id, name="after")
    seen: list[str | None] = []

    async def child() -> None:
        read = await db.get_user_by_id(user.id)
        seen.append(read.name if read else None)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(child)
    assert seen == ["after"]


async def test_a_lagging_replica_takes_no_reads(db: Database, standby_ready: Cluster) -> None:
    cluster = standby_ready
    user = await _create_elsewhere(db, "lag@example.com")
    await _wait_for(lambda: _on_replica(cluster, user.id), "the user on the standby")
    cluster.standbys[0].configure(recovery_min_apply_delay="3s")
    writing = anyio.Event()

    async def keep_writing() -> None:
        n = 0
        while not writing.is_set():
            n += 1
            await db.update_user(user.id, name=f"w{n}")
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(keep_writing)
        await _wait_for(lambda: _server(db, "replica").state == "lagging", "lagging state")
        reads_before = _server(db, "replica").reads
        for _ in range(50):
            assert await db.get_user_by_id(user.id) is not None
        assert _server(db, "replica").reads == reads_before
        assert (_server(db, "replica").lag_seconds or 0) > 1.0
        writing.set()
    cluster.standbys[0].configure(recovery_min_apply_delay="0")
    await _wait_for(lambda: _server(db, "replica").state == "up", "the replica to recover")
    await db.get_user_by_id(user.id)
    assert _server(db, "replica").reads == reads_before + 1


async def test_a_stopped_replica_costs_no_failed_call(db: Database,
                                                      standby_ready: Cluster) -> None:
    cluster = standby_ready
    user = await _create_elsewhere(db, "stopped@example.com")
    await _wait_for(lambda: _on_replica(cluster, user.id), "the user on the standby")
    assert await db.get_user_by_id(user.id) == user  # a pooled connection to the standby
    cluster.standbys[0].stop()
    for _ in range(50):
        assert await db.get_user_by_id(user.id) == user
    assert [c.id async for c in db.iter_conversions(UUID(int=0))] == []
    replica = _server(db, "replica")
    assert replica.state == "down"
    assert replica.error
    cluster.standbys[0].start()
    await _wait_for(lambda: _server(db, "replica").state == "up", "the replica to come back")
    reads = _server(db, "replica").reads
    assert await db.get_user_by_id(user.id) == user
    assert _server(db, "replica").reads == reads + 1


async def test_the_primary_block_pins_reads(db: Database, standby_ready: Cluster) -> None:
    user = await _create_elsewhere(db, "pinned@example.com")
    await _wait_for(lambda: _on_replica(standby_ready, user.id), "the user on the standby")
    async with db.primary():
        for _ in range(10):
            assert await db.get_user_by_id(user.id) == user
    assert (_server(db, "primary").reads, _server(db, "replica").reads) == (10, 0)
    assert await db.get_user_by_id(user.id) == user
    assert _server(db, "replica").reads == 1


async def test_health_and_stats_list_every_server(db: Database) -> None:
    report = await db.health()
    assert report.ok
    assert [(s.role, s.state) for s in report.servers] == [("primary", "up"),
                                                           ("replica", "up")]
    assert report.servers[1].replay_lag_s is not None
    stats = db.stats().servers
    assert [(s.name, s.role) for s in stats] == [("primary", "primary"), ("replica1", "replica")]
    assert stats[1].pool.max_size == TASKS


async def test_replica_urls_from_the_environment(standby_ready: Cluster,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", standby_ready.primary.url(GATEWAY))
    monkeypatch.setenv("DATABASE_REPLICA_URLS", standby_ready.standbys[0].url(GATEWAY))
    async with Database() as db:
        assert [s.name for s in db.stats().servers] == ["primary", "replica1"]


async def test_a_replica_down_at_connect_is_no_error(standby_ready: Cluster) -> None:
    standby_ready.standbys[0].stop()
    async with Database(standby_ready.primary.url(GATEWAY),
                        replicas=[standby_ready.standbys[0].url(GATEWAY)]) as db:
        assert _server(db, "replica").state == "down"
        assert await db.list_users(take=1) is not None
        assert _server(db, "primary").reads == 1
        report = await db.health()
        assert report.status == "degraded"
        assert any(r.startswith("replica1 down") for r in report.reasons), report.reasons
        assert [(s.role, s.reachable) for s in report.servers] == [("primary", True),
                                                                   ("replica", False)]


def test_the_health_command_lists_every_server(standby_ready: Cluster,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_REPLICA_URLS", standby_ready.standbys[0].url(GATEWAY))
    assert main(["health", "--database-url", standby_ready.primary.url(GATEWAY)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^servers\s+primary \S+ reachable .* up\n\s+replica \S+ reachable up, "
                     r"lag \d", out, re.MULTILINE), out


async def test_a_read_that_fails_on_the_replica_runs_on_the_primary(
        standby_ready: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    # No background poll after the first: only the failing read can tell the router.
    monkeypatch.setattr(routing, "POLL_INTERVAL", 3600.0)
    cluster = standby_ready
    async with Database(cluster.primary.url(GATEWAY),
                        replicas=[cluster.standbys[0].url(GATEWAY)]) as db:
        user = await _create_elsewhere(db, "retried@example.com")
        await _wait_for(lambda: _on_replica(cluster, user.id), "the user on the standby")
        assert await db.get_user_by_id(user.id) == user
        assert _server(db, "replica").reads == 1
        cluster.standbys[0].stop()
        assert _server(db, "replica").state == "up"  # nobody has looked since
        assert await db.get_user_by_id(user.id) == user
        replica, primary = _server(db, "replica"), _server(db, "primary")
        assert (replica.retried, replica.state, primary.reads) == (1, "down", 1)
