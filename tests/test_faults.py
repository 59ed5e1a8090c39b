"""Outages under load: a proxy cutting every connection, a server restarted twice.

Both runs end with the same checks (``fault_load.check_outcome``): only gatewaydb errors left
the API, every acknowledged conversion is stored exactly once and none twice (a write is never
applied twice), the click counter lies within [acknowledged, attempted], and no unretrieved
future was reported. Each prints its errors by class (``pytest -s`` shows them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import anyio
import pytest
from fault_load import FaultLoad, check_outcome, loop_errors, stored_conversions
from tcp_proxy import TcpProxy, target_of

from gatewaydb import Database
from gatewaydb.app import embedded, migrate
from gatewaydb.app.embedded import EmbeddedServer, temporary_server
from gatewaydb.testing.plugin import PgServer

pytestmark = pytest.mark.anyio

# Long enough for a call to ride out a 1 s refusal or a restart, short enough for a test.
POOL_TIMEOUT = 5


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def test_a_proxy_cutting_every_connection_loses_and_duplicates_nothing(
        gatewaydb_server: PgServer, database_url: str) -> None:
    async with TcpProxy(target_of(gatewaydb_server.host, gatewaydb_server.port)) as proxy:
        url = proxy.url(gatewaydb_server.user, gatewaydb_server.password, _dbname(database_url))
        with loop_errors() as noise:
            async with Database(url, connection_limit=8, pool_timeout=POOL_TIMEOUT) as db:
                load = await FaultLoad.prepare(db)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(load.run)
                    for _ in range(3):  # ~10 s: three cuts, each refusing for 1 s
                        await anyio.sleep(2.0)
                        await proxy.outage(1.0)
                    await anyio.sleep(1.0)
                    load.stop()
                # The pool serves again at once.
                assert await db.get_campaign_by_id(load.campaign_id) is not None
                clicks = (await db.get_campaign_by_id(load.campaign_id)).total_clicks  # type: ignore[union-attr]
    print(f"\nproxy run: {load.tally.summary()}; {proxy.cuts} connections cut")
    assert proxy.cuts > 0
    check_outcome(load.tally, await stored_conversions(database_url, load.campaign_id), clicks)
    assert not [m for m in noise if "never retrieved" in m], noise


def _stopper(server: EmbeddedServer, mode: str) -> Callable[[], None]:
    def stop() -> None:
        # EmbeddedServer.stop() is always "fast"; an immediate stop is a crash for the
        # clients and a recovery for the server, which is what this test wants.
        embedded._pg_ctl()(["-w", "-m", mode, "stop"], pgdata=server.data_dir,
                           user=embedded._system_user(), timeout=60)
    return stop


@pytest.fixture
def own_server() -> Iterator[EmbeddedServer]:
    """A second embedded server, this test's to restart."""
    with temporary_server() as server:
        yield server


async def test_a_server_restarted_under_load_serves_again_and_loses_nothing(
        own_server: EmbeddedServer) -> None:
    url = own_server.ensure_database("restarts")
    await anyio.to_thread.run_sync(migrate.apply, url)
    with loop_errors() as noise:
        async with Database(url, connection_limit=8, pool_timeout=POOL_TIMEOUT) as db:
            load = await FaultLoad.prepare(db)
            recovered: list[float] = []
            async with anyio.create_task_group() as tg:
                tg.start_soon(load.run)
                for mode in ("fast", "immediate"):
                    await anyio.sleep(1.0)
                    await anyio.to_thread.run_sync(_stopper(own_server, mode))
                    await anyio.sleep(0.3)  # callers meet a server that is down
                    await anyio.to_thread.run_sync(own_server.start)
                    accepting = time.monotonic()
                    with anyio.fail_after(POOL_TIMEOUT):
                        while await db.health_check() is False:
                            pass
                    recovered.append(time.monotonic() - accepting)
                await anyio.sleep(1.0)
                load.stop()
            campaign = await db.get_campaign_by_id(load.campaign_id)
            assert campaign is not None
    print(f"\nrestart run: {load.tally.summary()}; served again after "
          f"{', '.join(f'{s:.2f}s' for s in recovered)}")
    assert all(seconds < 3 for seconds in recovered), recovered
    check_outcome(load.tally, await stored_conversions(url, load.campaign_id),
                  campaign.total_clicks)
    assert not [m for m in noise if "never retrieved" in m], noise
