"""gatewaydb's own fixtures, on top of its pytest plugin (``gatewaydb.testing.plugin``).

The plugin (entry point ``pytest11``, see the README) brings the server, the migrated template
and a fresh database per test; this file gives them the short names the suite uses and adds
the Gateway rows the tests build on.

==================  ========  ==============================================================
fixture             scope     gives
==================  ========  ==============================================================
anyio_backend       session   "asyncio": async tests run on anyio's pytest plugin
database_url        test      the plugin's ``gatewaydb_database_url``: a fresh database
                              cloned from the migrated template, dropped after the test
empty_database_url  test      the plugin's ``gatewaydb_empty_database_url`` (no migrations)
db                  test      the plugin's ``gatewaydb_db``: a connected :class:`Database`
conn                test      an ``asyncpg.Connection`` to ``database_url``, closed after
user                test      a user, owner@example.com named "Owner"
asset               test      an asset of ``user``: v.mp4 at gs://bucket/v.mp4
clip                test      a clip of ``asset``, 0 to 15 seconds
campaign            test      a campaign of ``user``: "Summer Sale 2025", CONVERSIONS, 5000
==================  ========  ==============================================================

Plain helpers (row counts, statement counts, the "refused as invalid" check) are in
``helpers.py``; test modules import them as ``from helpers import ...``.

Async tests are ``async def`` with ``pytestmark = pytest.mark.anyio`` (or the decorator)::

    pytestmark = pytest.mark.anyio

    async def test_one_user(conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
        assert await conn.fetchval("SELECT count(*) FROM users") == 1
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from gatewaydb import Database
from gatewaydb.gateway.models import Asset, Campaign, Clip, User

# pytester: tests/test_pytest_plugin.py runs a service's suite in a subprocess.
pytest_plugins = ("pytester",)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run async tests and fixtures on asyncio (session scope allows session async fixtures)."""
    return "asyncio"


@pytest.fixture
def database_url(gatewaydb_database_url: str) -> str:
    """A fresh, fully migrated database for this test (cloned from the template)."""
    return gatewaydb_database_url


@pytest.fixture
def empty_database_url(gatewaydb_empty_database_url: str) -> str:
    """A fresh database with no migration applied."""
    return gatewaydb_empty_database_url


@pytest.fixture
def db(gatewaydb_db: Database) -> Database:
    """A connected :class:`Database` on this test's fresh database, closed after."""
    return gatewaydb_db


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """An asyncpg connection to this test's fresh database, closed after."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def user(db: Database) -> User:
    """The owner of the parent rows below."""
    return await db.create_user(email="owner@example.com", name="Owner")


@pytest.fixture
async def asset(db: Database, user: User) -> Asset:
    return await db.create_asset(user.id, "v.mp4", "gs://bucket/v.mp4")


@pytest.fixture
async def clip(db: Database, asset: Asset) -> Clip:
    return await db.create_clip(asset.id, 0, 15)


@pytest.fixture
async def campaign(db: Database, user: User) -> Campaign:
    return await db.create_campaign(user.id, "Summer Sale 2025", "CONVERSIONS", 5000)
