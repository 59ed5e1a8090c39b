"""The migrations apply, roll back to nothing and apply again; gatewaydb.app.migrate and the yoyo
CLI agree on what is applied."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import psycopg
import pytest
from tcp_proxy import TcpProxy, target_of

from gatewaydb.app import migrate
from gatewaydb.app.cli import main
from gatewaydb.core.errors import ConfigurationError, DatabaseUnavailableError, InvalidInputError
from gatewaydb.gateway._paths import migrations_dir
from gatewaydb.testing.plugin import PgServer

REPO_ROOT = Path(__file__).resolve().parents[1]
# Every migration file; the numeric prefixes put them in dependency order.
ALL_IDS = sorted(p.name.removesuffix(".sql") for p in migrations_dir().glob("*.sql")
                 if not p.name.endswith(".rollback.sql"))

# Every user-visible object outside the system schemas, with what defines it: two databases
# with equal snapshots have the same schema.
_SNAPSHOT_SQL = """
WITH ns AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
)
SELECT 'relation', c.relname, c.relname, c.relkind::text
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'column', c.relname, c.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'index', c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'trigger', c.relname, t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
WHERE NOT t.tgisinternal
UNION ALL
SELECT 'type', t.typname, t.typname,
       t.typtype::text || coalesce(':' || (SELECT string_agg(e.enumlabel, ','
                                                             ORDER BY e.enumsortorder)
                                           FROM pg_enum e WHERE e.enumtypid = t.oid), '')
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE t.typcategory <> 'A'  -- array types follow their element type
  AND (t.typtype IN ('b', 'd', 'e', 'm', 'r')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
UNION ALL
SELECT 'function', p.proname, p.oid::regprocedure::text,
       pg_get_function_result(p.oid) || ' ' || md5(p.prosrc)
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
UNION ALL
SELECT 'extension', e.extname, e.extname, e.extversion FROM pg_extension e
"""
# yoyo's bookkeeping tables: created on first use, never dropped by a rollback.
_YOYO_TABLES = ("_yoyo_", "yoyo_")

Snapshot = frozenset[tuple[str, str, str]]


def schema_snapshot(url: str) -> Snapshot:
    """(kind, name, definition) of every object, without yoyo's own tables."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(_SNAPSHOT_SQL).fetchall()
    return frozenset((kind, name, definition) for kind, owner, name, definition in rows
                     if not owner.startswith(_YOYO_TABLES))


def names_of(snapshot: Snapshot, kind: str) -> set[str]:
    return {name for k, name, _ in snapshot if k == kind}


def test_migrations_round_trip_to_an_empty_schema(empty_database_url: str,
                                                   database_url: str) -> None:
    url = empty_database_url
    fresh = schema_snapshot(url)

    assert migrate.apply(url) == ALL_IDS
    migrated = schema_snapshot(url)
    created = migrated - fresh
    assert {"users", "assets", "clips", "campaigns", "experiments", "predictions",
            "conversions"} <= names_of(created, "relation")
    assert {"user_role", "conversion_source"} <= names_of(created, "type")
    assert "gw_touch_updated_at()" in names_of(created, "function")
    # The template every other test clones was built by the same migrations.
    assert schema_snapshot(database_url) == migrated

    assert migrate.rollback_all(url) == ALL_IDS[::-1]
    leftovers = schema_snapshot(url) - fresh
    assert not leftovers, f"rollback left objects behind: {sorted(leftovers)}"
    assert schema_snapshot(url) == fresh

    assert migrate.apply(url) == ALL_IDS
    assert schema_snapshot(url) == migrated


def test_status_and_pending_on_a_new_database(empty_database_url: str) -> None:
    assert migrate.pending(empty_database_url) == ALL_IDS
    assert migrate.status(empty_database_url) == [
        migrate.MigrationStatus(id=i, applied=False, applied_at=None) for i in ALL_IDS]


def test_status_and_pending_after_apply(empty_database_url: str) -> None:
    before = datetime.now(UTC)
    migrate.apply(empty_database_url)
    after = datetime.now(UTC)

    statuses = migrate.status(empty_database_url)
    assert [(s.id, s.applied) for s in statuses] == [(i, True) for i in ALL_IDS]
    times = [s.applied_at for s in statuses]
    assert all(t is not None and before <= t <= after for t in times)
    assert times == sorted(times, key=lambda t: t or before)
    assert migrate.pending(empty_database_url) == []
    assert migrate.apply(empty_database_url) == []


def test_rollback_latest_then_to_a_migration(database_url: str) -> None:
    assert migrate.rollback(database_url) == [ALL_IDS[-1]]
    assert migrate.pending(database_url) == [ALL_IDS[-1]]

    assert migrate.rollback(database_url, to=ALL_IDS[0]) == ALL_IDS[1:-1][::-1]
    assert migrate.pending(database_url) == ALL_IDS[1:]
    assert [s.applied for s in migrate.status(database_url)] == [True] + [False] * (
        len(ALL_IDS) - 1)
    assert migrate.rollback(database_url, to=ALL_IDS[0]) == []

    assert migrate.apply(database_url) == ALL_IDS[1:]


def test_rollback_to_an_unknown_migration_is_refused(database_url: str) -> None:
    with pytest.raises(InvalidInputError, match="no migration"):
        migrate.rollback(database_url, to="9999_nope")
    assert migrate.pending(database_url) == []


def test_rollback_of_an_empty_database_does_nothing(empty_database_url: str) -> None:
    assert migrate.rollback(empty_database_url) == []
    assert migrate.rollback_all(empty_database_url) == []


@pytest.mark.parametrize("call", [migrate.apply, migrate.pending, migrate.status,
                                  migrate.rollback], ids=lambda f: f.__name__)
def test_unreachable_database_is_one_line_error(call: Callable[[str], object]) -> None:
    url = "postgresql://postgres@/postgres?host=/nonexistent-gatewaydb-socket-dir&port=5432"
    with pytest.raises(DatabaseUnavailableError) as info:
        call(url)
    assert "\n" not in str(info.value)
    assert "/nonexistent-gatewaydb-socket-dir" in str(info.value)


def _yoyo(*args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    """The plain ``yoyo`` command run as a user would, from the repo root (it reads
    ``yoyo.ini``), with ``DATABASE_URL=url`` (unset for None)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url is not None:
        env["DATABASE_URL"] = url
    return subprocess.run([str(Path(sys.executable).parent / "yoyo"), *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def _app_url(url: str) -> str:
    """``url`` as the application's DATABASE_URL looks: with gatewaydb's pool settings."""
    return f"{url}{'&' if '?' in url else '?'}connection_limit=5&pool_timeout=3"


def _yoyo_list(url: str) -> dict[str, str]:
    """``yoyo list`` on the application's own URL.

    Returns:
        migration id -> "A" (applied) or "U" (unapplied).
    """
    result = _yoyo("list", url=_app_url(url))
    assert result.returncode == 0, result.stderr
    # A header line, a line of dashes, then "STATUS  ID  SOURCE" rows.
    lines = result.stdout.splitlines()
    rule = next(n for n, line in enumerate(lines) if line.startswith("---"))
    return {row.split()[1]: row.split()[0] for row in lines[rule + 1:] if row.strip()}


@pytest.mark.anyio
async def test_a_failover_url_works_for_gatewaydb_and_plain_yoyo(
        gatewaydb_server: PgServer, empty_database_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    # The README's failover URL, db1:port,db2:port: nothing listens on the first host's port
    # (1); the second reaches the test server through a TCP proxy (the embedded server has
    # only a socket, which a URL's host list cannot name).
    dbname = urlsplit(empty_database_url).path[1:]
    async with TcpProxy(target_of(gatewaydb_server.host, gatewaydb_server.port)) as proxy:
        direct = proxy.url(gatewaydb_server.user, gatewaydb_server.password, dbname)
        url = direct.replace("@127.0.0.1:", "@127.0.0.1:1,127.0.0.1:", 1) + \
            "?target_session_attrs=read-write&connect_timeout=2"
        for command in (["migrate"], ["status"], ["check"]):
            code = await anyio.to_thread.run_sync(main, [*command, "--database-url", url])
            assert code == 0, (command, capsys.readouterr().err)
        assert await anyio.to_thread.run_sync(_yoyo_list, url) == dict.fromkeys(ALL_IDS, "A")
        done = await anyio.to_thread.run_sync(
            lambda: _yoyo("rollback", "-r", ALL_IDS[-1], url=_app_url(url)))
        assert done.returncode == 0, done.stderr
    assert migrate.pending(empty_database_url) == [ALL_IDS[-1]]


def test_yoyo_cli_agrees_with_migrate(empty_database_url: str) -> None:
    assert _yoyo_list(empty_database_url) == dict.fromkeys(ALL_IDS, "U")
    migrate.apply(empty_database_url)
    assert _yoyo_list(empty_database_url) == dict.fromkeys(ALL_IDS, "A")


def test_plain_yoyo_apply_and_rollback_on_the_app_url(empty_database_url: str) -> None:
    url = _app_url(empty_database_url)
    done = _yoyo("apply", url=url)
    assert done.returncode == 0, done.stderr
    assert migrate.pending(empty_database_url) == []
    done = _yoyo("rollback", "-r", ALL_IDS[-1], url=url)
    assert done.returncode == 0, done.stderr
    assert migrate.pending(empty_database_url) == [ALL_IDS[-1]]


@pytest.mark.parametrize(("url", "words"), [
    pytest.param(None, "DATABASE_URL is not set", id="unset"),
    pytest.param("mysql://root@127.0.0.1/gateway", "scheme", id="scheme"),
    pytest.param("postgresql://postgres@127.0.0.1/gateway?connection_limit=lots",
                 "connection_limit", id="malformed-setting"),
    pytest.param("postgresql://postgres@/gateway?host=/nonexistent-gatewaydb-socket-dir"
                 "&connection_limit=5", "/nonexistent-gatewaydb-socket-dir", id="unreachable"),
])
def test_plain_yoyo_with_a_bad_url_says_why_in_one_line(url: str | None, words: str) -> None:
    done = _yoyo("list", url=url)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("yoyo: error: ")
    assert words in lines[0]


_ALL_GATEWAYDB_PARAMS = (
    "connection_limit=5&min_connections=1&pool_timeout=3&connect_timeout=2&statement_timeout=1"
    "&application_name=x&statement_cache=false&check_schema=false&slow_query_threshold=1"
    "&log_parameters=true")


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("postgresql://u:p@db.example:5432/gw?connection_limit=5&sslmode=require",
                 "postgresql+psycopg://u:p@db.example:5432/gw?sslmode=require", id="postgresql"),
    pytest.param("postgres://db.example/gw", "postgresql+psycopg://db.example/gw",
                 id="postgres"),
    pytest.param("postgresql+asyncpg://u@/gw?host=/run/pg&port=5433&statement_cache=false",
                 "postgresql+psycopg://u@/gw?host=/run/pg&port=5433", id="asyncpg-socket"),
    pytest.param("postgresql+psycopg://u@h/gw?application_name=x",
                 "postgresql+psycopg://u@h/gw", id="psycopg"),
    pytest.param("postgresql://u:p@db1:5432,db2/gw?target_session_attrs=read-write"
                 "&connection_limit=5",
                 "postgresql+psycopg://u:p@/gw?host=db1,db2&port=5432,"
                 "&target_session_attrs=read-write", id="failover"),
    pytest.param("postgresql://[::1]:5433,[fe80::1]:5434/gw",
                 "postgresql+psycopg:///gw?host=::1,fe80::1&port=5433,5434", id="failover-ipv6"),
    pytest.param(f"postgresql://h/gw?sslmode=disable&{_ALL_GATEWAYDB_PARAMS}&target_session_attrs=any",
                 "postgresql+psycopg://h/gw?sslmode=disable&target_session_attrs=any",
                 id="every-gatewaydb-param"),
])
def test_yoyo_url_converts_scheme_and_strips_gatewaydb_params(url: str, expected: str) -> None:
    assert migrate.yoyo_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://h/db", "sqlite:///x.db", "h/db"])
def test_yoyo_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(ConfigurationError, match="scheme"):
        migrate.yoyo_url(url)


@pytest.mark.parametrize("url", ["postgresql://h:x/db", "postgresql://h1,h2:70000/db",
                                 "postgresql://[::1/db"])
def test_yoyo_url_refuses_a_malformed_host_or_port(url: str) -> None:
    with pytest.raises(ConfigurationError, match="malformed URL"):
        migrate.yoyo_url(url)



def test_make_migrate_leaves_nothing_pending_for_yoyo(empty_database_url: str) -> None:
    # This interpreter's bin/ stands in for .venv/bin; -o keeps make from reinstalling.
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}",
         "migrate"], cwd=REPO_ROOT, env={**os.environ, "DATABASE_URL": empty_database_url},
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert _yoyo_list(empty_database_url) == dict.fromkeys(ALL_IDS, "A")
    assert migrate.pending(empty_database_url) == []
