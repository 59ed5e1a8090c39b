"""The test harness: one PostgreSQL server per session, one migrated template database, and a
fresh database cloned from it for every test that asks.

The server is ``$PGTEST_HOST`` when set (``PGTEST_PORT`` default 5432, ``PGTEST_USER`` default
postgres, ``PGTEST_PASSWORD`` optional), else an embedded server started for the session in a
throwaway folder (``gatewaydb.app.embedded.temporary_server``).

Fixtures:

==================  ========  ==============================================================
fixture             scope     gives
==================  ========  ==============================================================
anyio_backend       session   "asyncio": async tests run on anyio's pytest plugin
pg_server           session   :class:`PgServer`: where the server is and who to log in as
gw_template         session   pytest-postgresql's executor for the template database
                              (``gw_template.template_dbname``) with every migration applied
database_url        test      URL of a fresh database cloned from the template, dropped after
                              the test; asyncpg, psycopg and ``gatewaydb`` accept it
empty_database_url  test      URL of a fresh database without any migration (for migration
                              tests), dropped after the test
conn                test      an ``asyncpg.Connection`` to ``database_url``, closed after
db                  test      a connected :class:`gatewaydb.Database` on ``database_url``
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

import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import asyncpg
import pytest
from pytest_postgresql import factories
from pytest_postgresql.executors import NoopExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from gatewaydb import Database
from gatewaydb.app import migrate
from gatewaydb.app.embedded import temporary_server
from gatewaydb.gateway.models import Asset, Campaign, Clip, User

# Fixtures with several servers (a primary with a standby, PgBouncer).
pytest_plugins = ["servers"]


def _url_for(*, host: str, port: int | str, user: str, password: str | None,
                     dbname: str) -> str:
    """A ``postgresql://`` URL that asyncpg, psycopg and yoyo (via ``yoyo_url``) accept.

    A host starting with "/" is a Unix socket directory, which a URL can only carry in the
    query string.
    """
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    database = quote(dbname, safe="")
    if host.startswith("/"):
        query = urlencode({"host": host, "port": port}, safe="/")
        return f"postgresql://{auth}@/{database}?{query}"
    hostpart = f"[{host}]" if ":" in host else host
    return f"postgresql://{auth}@{hostpart}:{port}/{database}"


@dataclass(frozen=True, slots=True)
class PgServer:
    """The server under test, shaped as ``postgresql_noproc(depends_on=...)`` reads it."""

    host: str
    port: int
    user: str
    password: str | None = None
    options: str = ""
    maintenance_dbname: str = "postgres"
    template_dbname: str | None = None

    def url(self, dbname: str) -> str:
        """The URL of database ``dbname`` on this server."""
        return _url_for(host=self.host, port=self.port, user=self.user,
                                password=self.password, dbname=dbname)


def _apply_migrations(*, host: str, port: int | str, user: str, dbname: str,
                      password: str | None, **_: object) -> None:
    """pytest-postgresql loader: build the template by applying every migration."""
    migrate.apply(_url_for(host=host, port=port, user=user, password=password,
                                   dbname=dbname))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run async tests and fixtures on asyncio (session scope allows session async fixtures)."""
    return "asyncio"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The server under test: ``$PGTEST_HOST``, or an embedded one for this session."""
    host = os.environ.get("PGTEST_HOST")
    if host:
        yield PgServer(host=host, port=int(os.environ.get("PGTEST_PORT", "5432")),
                       user=os.environ.get("PGTEST_USER", "postgres"),
                       password=os.environ.get("PGTEST_PASSWORD") or None)
        return
    with temporary_server() as server:
        yield PgServer(host=str(server.socket_dir), port=server.port, user="postgres")


# Per-run names: concurrent runs against one server (CI, colleagues) never touch each other's
# databases, and one left by a crashed run can never collide with this run's.
_RUN = secrets.token_hex(3)
_DATABASE_NUMBERS = itertools.count(1)

gw_template = factories.postgresql_noproc(
    depends_on="pg_server", dbname=f"gatewaydb_test_{_RUN}", load=[_apply_migrations])


@contextmanager
def _fresh_database(server: PgServer, template: str | None) -> Iterator[str]:
    name = f"gatewaydb_test_{_RUN}_{next(_DATABASE_NUMBERS)}"
    janitor = DatabaseJanitor(user=server.user, host=server.host, port=server.port,
                              password=server.password, dbname=name, template_dbname=template,
                              maintenance_dbname=server.maintenance_dbname)
    with janitor:
        yield server.url(name)


@pytest.fixture
def database_url(pg_server: PgServer, gw_template: NoopExecutor) -> Iterator[str]:
    """A fresh, fully migrated database for this test (cloned from the template)."""
    with _fresh_database(pg_server, gw_template.template_dbname) as url:
        yield url


@pytest.fixture
def empty_database_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh database with no migration applied."""
    with _fresh_database(pg_server, None) as url:
        yield url


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """An asyncpg connection to this test's fresh database.

    Example::

        @pytest.mark.anyio
        async def test_count(conn: asyncpg.Connection) -> None:
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
    """
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A connected :class:`Database` on this test's fresh database, closed after."""
    async with Database(database_url) as database:
        yield database


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
