"""The pytest plugin (``gatewaydb.testing.plugin``) as a downstream service's suite uses it.

A throwaway project with its own migrations directory (gatewaydb's plus one of its own) and
ini options runs in a pytest subprocess against this session's server (passed as PGTEST_*).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from gatewaydb.gateway._paths import migrations_dir
from gatewaydb.testing.plugin import PgServer

README = Path(__file__).resolve().parents[1] / "README.md"

_SERVICE_TESTS = '''
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_first_sees_its_own_migration_and_writes(gatewaydb_db):
    async with gatewaydb_db.acquire() as conn:
        await conn.execute("INSERT INTO service_notes (body) VALUES ('kept?')")
        assert await conn.fetchval("SELECT count(*) FROM service_notes") == 1
    assert await gatewaydb_db.list_users() == []
    report = await gatewaydb_db.health()
    assert report.status == "healthy", report.reasons


async def test_second_gets_a_fresh_clone(gatewaydb_db, gatewaydb_database_url):
    async with gatewaydb_db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM service_notes") == 0
        assert await conn.fetchval("SELECT current_database()") in gatewaydb_database_url


def test_empty_database_has_no_tables(gatewaydb_empty_database_url):
    import psycopg
    with psycopg.connect(gatewaydb_empty_database_url) as conn:
        assert conn.execute("SELECT to_regclass('service_notes')").fetchone() == (None,)


def test_no_database_options_by_default(gatewaydb_database_options):
    assert gatewaydb_database_options == {}
'''

# Without gatewaydb_queries the option only reaches the keywords (no statement file here).
_SQL_PATHS_TEST = '''
from pathlib import Path


def test_sql_paths_are_passed_to_database(gatewaydb_database_options, pytestconfig):
    assert gatewaydb_database_options == {"sql_paths": [Path(pytestconfig.rootpath) / "sql"]}
'''


@pytest.fixture
def service(pytester: pytest.Pytester, gatewaydb_server: PgServer,
            monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A service checkout: db/migrations (gatewaydb's + one), sql/, and the plugin's options."""
    folder = pytester.path / "db" / "migrations"
    folder.mkdir(parents=True)
    for source in migrations_dir().glob("*.sql"):
        shutil.copy(source, folder / source.name)
    latest = max(p.name for p in folder.glob("*.sql")).split(".")[0]
    (folder / "0100_service_notes.sql").write_text(
        f"-- depends: {latest}\nCREATE TABLE service_notes (body text NOT NULL);\n")
    (folder / "0100_service_notes.rollback.sql").write_text("DROP TABLE service_notes;\n")
    (pytester.path / "sql").mkdir()
    pytester.makeini(textwrap.dedent("""
        [pytest]
        gatewaydb_migrations = db/migrations
    """))
    pytester.makepyfile(test_service=_SERVICE_TESTS)
    monkeypatch.setenv("PGTEST_HOST", gatewaydb_server.host)
    monkeypatch.setenv("PGTEST_PORT", str(gatewaydb_server.port))
    monkeypatch.setenv("PGTEST_USER", gatewaydb_server.user)
    if gatewaydb_server.password:
        monkeypatch.setenv("PGTEST_PASSWORD", gatewaydb_server.password)
    return pytester


@pytest.mark.slow
def test_a_service_suite_gets_template_clones_and_a_database(service: pytest.Pytester) -> None:
    result = service.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_sql_paths_option_reaches_the_database_keywords(service: pytest.Pytester) -> None:
    service.makeini(textwrap.dedent("""
        [pytest]
        gatewaydb_migrations = db/migrations
        gatewaydb_sql_paths = sql
    """))
    service.makepyfile(test_service=_SQL_PATHS_TEST)
    result = service.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# The service's own statement, declared in its own module, run on the plugin's Database.
_SERVICE_SQL = """-- name: count_service_notes
-- How many notes the service keeps.
SELECT count(*) FROM service_notes;
"""

_SERVICE_QUERIES = '''
from gatewaydb.core.query import value


@value(int)
def count_service_notes() -> None:
    """How many notes the service keeps."""
'''

_OWN_STATEMENT_TEST = '''
import pytest

import service_queries


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_the_services_statement_runs(gatewaydb_db, gatewaydb_database_options):
    assert gatewaydb_database_options["queries"] == [service_queries]
    async with gatewaydb_db.acquire() as conn:
        await conn.execute("INSERT INTO service_notes (body) VALUES ('one')")
    assert await gatewaydb_db.run(service_queries.count_service_notes()) == 1
    assert await gatewaydb_db.list_users() == []  # gatewaydb's own methods beside it
'''


def test_a_services_own_statements_run_on_the_plugins_database(
        service: pytest.Pytester) -> None:
    # The README's pytest.ini as written, with this service's module name in it: the SQL
    # files and the module declaring their statements.
    (service.path / "sql" / "notes.sql").write_text(_SERVICE_SQL)
    service.makepyfile(service_queries=_SERVICE_QUERIES, test_service=_OWN_STATEMENT_TEST)
    blocks = re.findall(r"```ini\n(.*?)```", README.read_text("utf-8"), re.DOTALL)
    assert len(blocks) == 1, "the README has one pytest.ini block"
    assert "gatewaydb_queries = myservice.queries" in blocks[0]
    service.makeini(blocks[0].replace("myservice.queries", "service_queries"))
    result = service.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_an_unimportable_queries_module_is_a_usage_error(service: pytest.Pytester) -> None:
    service.makeini(textwrap.dedent("""
        [pytest]
        gatewaydb_migrations = db/migrations
        gatewaydb_queries = no_such_module_here
    """))
    service.makepyfile(test_service="def test_db(gatewaydb_db):\n    pass\n")
    result = service.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*gatewaydb_queries: cannot import 'no_such_module_here'*"])
