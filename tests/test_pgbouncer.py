"""Through PgBouncer in transaction mode: 16 tasks on a 16-connection client pool, 3 server
connections behind it (``servers.bouncer_url``).

With ``statement_cache=false`` (unnamed statements) every domain operation works, streaming
and COPY included; with the default (named statements) ``connect()`` refuses with an error
naming that setting, and a call that meets a vanished statement says the same, never
PostgreSQL's "prepared statement ... does not exist". Session mode keeps named statements.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import anyio
import asyncpg
import pytest
import servers
from servers import BOUNCER_SERVER_POOL, CLIENT_POOL, require_pgbouncer

from gatewaydb import Database, DatabaseUnavailableError
from gatewaydb.app.bouncer import temporary_bouncer
from gatewaydb.app.demo import StepResult, walk
from gatewaydb.core.errors import ConfigurationError, translate_error
from gatewaydb.gateway.models import NewClip

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASKS = 16


async def _server_connections(url: str) -> set[int]:
    """The backend pids PgBouncer used, read from the server's own activity view."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return {r["pid"] for r in rows}
    finally:
        await conn.close()


async def _the_rest(db: Database, n: int) -> None:
    """Every domain operation the walkthrough does not call, each result checked."""
    user = await db.create_user(email=f"rest{n}@example.com", name=f"Rest {n}")
    key = await db.rotate_api_key(user.id)
    assert (await db.get_user_by_api_key(key)) == await db.get_user_by_id(user.id)
    assert user.id in {u.id for u in await db.list_users(take=1000)}
    asset = await db.create_asset(user.id, "r.mp4", "gs://bucket/r.mp4")
    assert (await db.get_asset_by_id(asset.id)) == asset
    assert await db.create_clips(NewClip(asset_id=asset.id, start_time=i, end_time=i + 1)
                                 for i in range(20)) == 20
    clip = (await db.list_clips(asset_id=asset.id, take=1))[0]
    assert (await db.get_clip_by_id(clip.id)) == clip
    prediction = await db.create_prediction(clip.id, "v1", predicted_roas=1.5)
    assert (await db.get_prediction_by_id(prediction.id)) == prediction
    assert [p.id for p in await db.list_predictions(clip.id)] == [prediction.id]
    campaign = await db.create_campaign(user.id, "Rest", "CONVERSIONS", 100)
    assert (await db.get_campaign_by_id(campaign.id)) == campaign
    renamed = await db.update_campaign(campaign.id, name="Renamed")
    assert renamed.name == "Renamed"
    grown = await db.increment_campaign_metrics(campaign.id, spend=Decimal("1.25"), clicks=2)
    assert (grown.total_spend, grown.total_clicks) == (Decimal("1.25"), 2)
    assert [c.id for c in await db.list_campaigns(user.id)] == [campaign.id]
    assert await db.list_experiments(campaign.id) == []
    start = datetime(2025, 6, 1, tzinfo=UTC)
    made = {(await db.create_conversion(campaign.id, "META", Decimal(i),
                                        timestamp=start + timedelta(hours=i),
                                        external_id=f"e{n}-{i}")).id for i in range(30)}
    streamed = [c.id async for c in db.iter_conversions(campaign.id, chunk_size=7)]
    assert set(streamed) == made
    assert len(streamed) == 30
    await db.delete_clip(clip.id)
    await db.delete_asset(asset.id)
    await db.delete_campaign(campaign.id)
    assert await db.get_clip_by_id(clip.id) is None
    assert await db.get_asset_by_id(asset.id) is None
    assert await db.get_campaign_by_id(campaign.id) is None


async def _concurrently(db: Database) -> list[list[StepResult]]:
    walks: list[list[StepResult]] = [[] for _ in range(TASKS)]

    async def one(n: int) -> None:
        walks[n] = await walk(db)
        await _the_rest(db, n)

    async with anyio.create_task_group() as tasks:
        for n in range(TASKS):
            tasks.start_soon(one, n)
    return walks


def _errors(db: Database) -> dict[str, int]:
    return {name: s.errors for name, s in db.stats().statements.items() if s.errors}


async def test_every_operation_under_concurrency_without_statement_cache(
        bouncer_url: str, database_url: str) -> None:
    # The walkthrough makes the server refuse a few things on purpose (a duplicate key that
    # rolls a transaction back, say): one direct run says which, and how often.
    async with Database(database_url) as direct:
        assert all(r.ok for r in await walk(direct))
        await _the_rest(direct, -1)
        deliberate = _errors(direct)
    async with Database(bouncer_url, statement_cache=False, connection_limit=CLIENT_POOL,
                        min_connections=CLIENT_POOL) as db:
        walks = await _concurrently(db)
        failed = [r for w in walks for r in w if r.error]
        assert failed == []
        assert all(len(w) == len(walks[0]) for w in walks)
        assert db.stats().pool is not None
        assert db.stats().pool.size == CLIENT_POOL
        assert _errors(db) == {name: TASKS * n for name, n in deliberate.items()}
    # The server saw PgBouncer's few connections, not the client's sixteen.
    assert 0 < len(await _server_connections(database_url)) <= BOUNCER_SERVER_POOL


async def test_named_statements_are_refused_at_connect(bouncer_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"statement_cache=false") as caught:
        await Database(bouncer_url).connect()
    assert "pool_mode=transaction" in str(caught.value)


async def test_session_mode_keeps_named_statements(database_url: str) -> None:
    require_pgbouncer()
    with temporary_bouncer(database_url, pool_mode="session", pool_size=CLIENT_POOL) as b:
        async with Database(b.url(urlsplit(database_url).path.lstrip("/"))) as db:
            user = await db.create_user(email="session@example.com")
            assert await db.get_user_by_id(user.id) == user


async def test_a_vanished_named_statement_names_the_setting(db: Database) -> None:
    # What a call meets when the probe at connect() did not catch the sharing: the server's
    # own 26000 for a named statement this session does not have.
    async with db.acquire() as conn:
        with pytest.raises(asyncpg.InvalidSQLStatementNameError) as raw:
            await conn.execute("EXECUTE gatewaydb_nowhere")
    error = translate_error(raw.value, "get_user_by_id")
    assert isinstance(error, ConfigurationError)
    assert "statement_cache=false" in str(error)
    assert "does not exist" not in str(error)


def test_without_pgbouncer_the_tests_skip_or_fail_where_required(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "pgbouncer_binary", lambda: None)
    monkeypatch.delenv(servers.REQUIRE_PGBOUNCER_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install -y pgbouncer"):
        servers.require_pgbouncer()
    monkeypatch.setenv(servers.REQUIRE_PGBOUNCER_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"not installed"):
        servers.require_pgbouncer()


async def test_statement_timeout_is_refused_by_pgbouncer_by_name(bouncer_url: str) -> None:
    # statement_timeout travels as a startup parameter, which PgBouncer 1.18 refuses: the
    # error says which one (docs/scaling.md: set it on the role instead).
    with pytest.raises(DatabaseUnavailableError, match=r"statement_timeout"):
        await Database(bouncer_url, statement_cache=False, statement_timeout=5).connect()
