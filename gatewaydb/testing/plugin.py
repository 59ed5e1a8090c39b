"""pytest plugin: a real PostgreSQL for a service's tests (entry point ``pytest11``).

Installed with ``pip install gatewaydb[testing]``; pytest loads it by itself. It gives a test
suite what gatewaydb's own uses:

=============================  ========  ==================================================
fixture                        scope     gives
=============================  ========  ==================================================
gatewaydb_server               session   :class:`PgServer`: ``$PGTEST_HOST`` (``PGTEST_PORT``,
                                         ``PGTEST_USER``, ``PGTEST_PASSWORD``), else an
                                         embedded server in a throwaway folder
gatewaydb_template             session   the name of a template database with every
                                         migration applied, built once per session
gatewaydb_database_url         test      URL of a fresh database cloned from the template,
                                         dropped after the test
gatewaydb_empty_database_url   test      URL of a fresh database without migrations
gatewaydb_db                   test      a connected :class:`gatewaydb.Database` on
                                         ``gatewaydb_database_url``
=============================  ========  ==================================================

Configuration, in ``pytest.ini`` / ``[tool.pytest.ini_options]`` (paths relative to the rootdir),
or by overriding the fixture of the same name in a ``conftest.py``:

- ``gatewaydb_migrations`` / fixture ``gatewaydb_migrations_dir``: the service's yoyo
  migrations (default: gatewaydb's own ``migrations/``).
- ``gatewaydb_sql_paths`` / fixture ``gatewaydb_sql_paths``: the service's ``*.sql`` files,
  passed to ``Database(url, sql_paths=[...])`` when given (default: none, gatewaydb's own).
- ``gatewaydb_queries`` / fixture ``gatewaydb_queries``: the declarations of those statements,
  one importable module per line (``module:name`` for a class or a single declaration),
  passed to ``Database(url, queries=[...])``. A statement no declaration uses is an error,
  so ``*.sql`` files need their declarations here.
- fixture ``gatewaydb_database_options``: every keyword for ``Database(...)``.

Async fixtures run on anyio's pytest plugin; mark async tests ``@pytest.mark.anyio``.
"""

from __future__ import annotations

import importlib
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from gatewaydb import Database
from gatewaydb.app import migrate

__all__ = ["PgServer", "url_for"]

_MIGRATIONS = "gatewaydb_migrations"
_SQL_PATHS = "gatewaydb_sql_paths"
_QUERIES = "gatewaydb_queries"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini options above."""
    parser.addini(_MIGRATIONS, "the service's yoyo migrations directory (default: gatewaydb's)",
                  type="string", default="")
    parser.addini(_SQL_PATHS, "the service's *.sql files or directories, for "
                  "Database(sql_paths=...)", type="linelist", default=[])
    parser.addini(_QUERIES, "the declarations of the service's statements: importable modules "
                  "(or module:name), for Database(queries=...)", type="linelist", default=[])


def url_for(*, host: str, port: int | str, user: str, password: str | None,
            dbname: str) -> str:
    """A ``postgresql://`` URL that asyncpg, psycopg and gatewaydb accept.

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
    """The server under test and who to log in as."""

    host: str
    port: int
    user: str
    password: str | None = None
    maintenance_dbname: str = "postgres"

    def url(self, dbname: str) -> str:
        """The URL of database ``dbname`` on this server."""
        return url_for(host=self.host, port=self.port, user=self.user,
                       password=self.password, dbname=dbname)

    @contextmanager
    def database(self, name: str, template: str | None = None) -> Iterator[str]:
        """Create database ``name`` (cloned from ``template``), yield its URL, drop it."""
        # Imported here: pytest loads this plugin wherever gatewaydb is installed, also
        # without the [testing] extra, and must not fail to start for want of it.
        from pytest_postgresql.janitor import DatabaseJanitor

        janitor = DatabaseJanitor(user=self.user, host=self.host, port=self.port,
                                  password=self.password, dbname=name,
                                  template_dbname=template,
                                  maintenance_dbname=self.maintenance_dbname)
        with janitor:
            yield self.url(name)


# Per-run names: concurrent runs against one server (CI, colleagues) never touch each other's
# databases, and one left by a crashed run can never collide with this run's.
_RUN = secrets.token_hex(3)
_NUMBERS = itertools.count(1)


def _fresh_name() -> str:
    return f"gatewaydb_test_{_RUN}_{next(_NUMBERS)}"


def _rooted(config: pytest.Config, text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else Path(config.rootpath) / path


@pytest.fixture(scope="session")
def gatewaydb_server() -> Iterator[PgServer]:
    """The server under test: ``$PGTEST_HOST``, or an embedded one for this session."""
    host = os.environ.get("PGTEST_HOST")
    if host:
        yield PgServer(host=host, port=int(os.environ.get("PGTEST_PORT", "5432")),
                       user=os.environ.get("PGTEST_USER", "postgres"),
                       password=os.environ.get("PGTEST_PASSWORD") or None)
        return
    from gatewaydb.app.embedded import temporary_server

    with temporary_server() as server:
        yield PgServer(host=str(server.socket_dir), port=server.port, user="postgres")


@pytest.fixture(scope="session")
def gatewaydb_migrations_dir(pytestconfig: pytest.Config) -> Path | None:
    """The migrations to build the template from (None: gatewaydb's own)."""
    text = str(pytestconfig.getini(_MIGRATIONS) or "")
    return _rooted(pytestconfig, text) if text else None


@pytest.fixture(scope="session")
def gatewaydb_sql_paths(pytestconfig: pytest.Config) -> list[Path]:
    """The service's SQL files (empty: gatewaydb's own statements only)."""
    return [_rooted(pytestconfig, str(p)) for p in pytestconfig.getini(_SQL_PATHS)]


@pytest.fixture(scope="session")
def gatewaydb_queries(pytestconfig: pytest.Config) -> list[object]:
    """The service's declarations, imported (empty: gatewaydb's own statements only)."""
    found: list[object] = []
    for spec in pytestconfig.getini(_QUERIES):
        module_name, _, attribute = str(spec).partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise pytest.UsageError(f"{_QUERIES}: cannot import {module_name!r}: {exc}") from exc
        if attribute and not hasattr(module, attribute):
            raise pytest.UsageError(f"{_QUERIES}: {module_name!r} has no {attribute!r}")
        found.append(getattr(module, attribute) if attribute else module)
    return found


@pytest.fixture(scope="session")
def gatewaydb_database_options(gatewaydb_sql_paths: list[Path],
                               gatewaydb_queries: list[object]) -> dict[str, Any]:
    """Keywords for every ``Database(...)`` the plugin opens; override to add settings."""
    options: dict[str, Any] = {}
    if gatewaydb_sql_paths:
        options["sql_paths"] = gatewaydb_sql_paths
    if gatewaydb_queries:
        options["queries"] = gatewaydb_queries
    return options


@pytest.fixture(scope="session")
def gatewaydb_template(gatewaydb_server: PgServer,
                       gatewaydb_migrations_dir: Path | None) -> Iterator[str]:
    """A database with every migration applied, built once; tests get clones of it."""
    name = f"gatewaydb_test_{_RUN}"
    with gatewaydb_server.database(name) as url:
        migrate.apply(url, directory=gatewaydb_migrations_dir)
        yield name


@pytest.fixture
def gatewaydb_database_url(gatewaydb_server: PgServer, gatewaydb_template: str) -> Iterator[str]:
    """A fresh, fully migrated database for this test (cloned from the template)."""
    with gatewaydb_server.database(_fresh_name(), gatewaydb_template) as url:
        yield url


@pytest.fixture
def gatewaydb_empty_database_url(gatewaydb_server: PgServer) -> Iterator[str]:
    """A fresh database with no migration applied."""
    with gatewaydb_server.database(_fresh_name()) as url:
        yield url


@pytest.fixture
async def gatewaydb_db(gatewaydb_database_url: str,
                       gatewaydb_database_options: dict[str, Any]) -> AsyncIterator[Database]:
    """A connected :class:`gatewaydb.Database` on this test's fresh database, closed after."""
    async with Database(gatewaydb_database_url, **gatewaydb_database_options) as database:
        yield database
