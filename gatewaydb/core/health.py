"""Health reports and the migration state, read through the application's own pool.

:func:`probe` is what ``Database.health()`` runs: one statement (``migration_state``) on a pooled
connection gives the server's version, the round-trip latency and the migrations yoyo has
recorded in ``_yoyo_migration``; comparing those with the files in the migrations directory
gives the pending ones. No second connection, no yoyo import, no file parsing beyond a
directory listing. Only where yoyo's table is missing (nothing was ever migrated) or
unreadable (privileges) does a second statement ask for the version alone.

:func:`check_schema` is the contract check as ``connect()`` and ``db.check()`` run it: when
statements do not fit the schema and migrations are pending, the error says so first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

import asyncpg

from . import meta, migration_state
from .contract import check_contract
from .errors import DatabaseError, GatewayDBError, SchemaMismatchError
from .query import Query
from .registry import Registry
from .reports import ContractState, HealthReport, HealthStatus, PoolStatus, ServerHealth

if TYPE_CHECKING:
    from .contract import Connection
    from .engine import Executor
    from .settings import Settings

__all__ = ["check_schema", "migration_ids", "pending", "probe", "unhealthy"]


# SQLSTATEs of migration_state that say something about the migrations, not about the server.
_NO_TABLE, _NO_PRIVILEGE = "42P01", "42501"


def migration_ids(directory: Path) -> list[str]:
    """The ids of the yoyo migrations in ``directory``, in file order.

    A yoyo migration is ``<id>.sql`` beside its ``<id>.rollback.sql``; the numeric prefixes
    put the ids in the order they apply.
    """
    return sorted(path.name.removesuffix(".sql") for path in directory.glob("*.sql")
                  if not path.name.endswith(".rollback.sql"))


def pending(applied: list[str] | None, directory: Path | None) -> list[str] | None:
    """The migrations in ``directory`` that ``applied`` lacks, in the order they apply.

    None when either is unknown (no migrations directory, or yoyo's table unreadable).
    """
    if applied is None or directory is None:
        return None
    done = set(applied)
    return [m for m in migration_ids(directory) if m not in done]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


async def check_schema(conn: Connection, registry: Registry,
                       queries: Mapping[str, Query[Any, Any]],
                       migrations: Path | None = None) -> None:
    """The contract check on ``conn``; a failure also names the pending migrations
    (when the database knows its ``migrations`` directory).

    Raises:
        SchemaMismatchError: every problem, with ``pending_migrations`` filled in when the
            database lacks migrations (the likely cause).
    """
    try:
        await check_contract(conn, registry, queries)
    except SchemaMismatchError as exc:
        if migrations is None:
            raise
        try:
            record = await conn.fetchrow(registry[migration_state.migration_state.name].sql)
            applied = [] if record is None else list(record["applied_migrations"])
        except asyncpg.PostgresError as failure:
            if failure.sqlstate != _NO_TABLE:
                raise exc from None
            applied = []  # yoyo never ran here: every migration is pending
        waiting = pending(applied, migrations)
        if not waiting:
            raise
        raise SchemaMismatchError(exc.problems, pending_migrations=waiting) from None


async def _version_and_applied(executor: Executor, migrations: Path | None,
                               ) -> tuple[str | None, list[str] | None]:
    """The server's version and yoyo's applied ids (None: unknown, or not asked for)."""
    if migrations is None:
        return await executor.run(meta.meta_server_version()), None
    try:
        found = await executor.run(migration_state.migration_state())
    except DatabaseError as exc:
        if exc.sqlstate not in (_NO_TABLE, _NO_PRIVILEGE):
            raise
        version = await executor.run(meta.meta_server_version())
        return version, [] if exc.sqlstate == _NO_TABLE else None
    assert found is not None  # the statement always returns one row
    return found.server_version, found.applied_migrations


def _address(settings: Settings | None) -> str:
    return settings.public_dsn() if settings is not None else "-"


def unhealthy(reason: str, settings: Settings | None = None, pool: PoolStatus | None = None,
              contract: ContractState = ContractState.NOT_CHECKED) -> HealthReport:
    """The report for a database that did not answer (or is not connected)."""
    server = ServerHealth(role="primary", address=_address(settings), reachable=False,
                          server_version=None, latency_ms=None, error=reason)
    return HealthReport(status=HealthStatus.UNHEALTHY, reasons=[reason], server_version=None,
                        latency_ms=None, pool=pool, pending_migrations=None,
                        contract=contract, servers=[server], error=reason)


async def probe(executor: Executor | None, settings: Settings | None,
                pool_status: Callable[[], PoolStatus | None],
                check: Callable[[], Awaitable[None]] | None = None,
                migrations: Path | None = None) -> HealthReport:
    """Build a :class:`HealthReport` for one database.

    Args:
        executor: The database's pool executor; None when it is not connected.
        settings: Its settings (None when not connected): the address shown, and whether
            ``connect()`` ran the contract check.
        pool_status: The pool's usage now.
        check: Runs the contract check now (many round trips); None reports what
            ``connect()`` found: ``ok`` when it ran the check (it would have failed
            otherwise), ``not checked`` with ``check_schema=False``.
        migrations: The database's migrations directory; None reports no migration state.

    Never raises for a server-side problem: that is the report's ``unhealthy`` status.
    """
    contract = (ContractState.OK if settings is not None and settings.check_schema
                else ContractState.NOT_CHECKED)
    if executor is None:
        return unhealthy("not connected: call `await db.connect()` first", settings,
                          pool_status(), contract)
    try:
        started = perf_counter()
        version, applied = await _version_and_applied(executor, migrations)
        latency = round((perf_counter() - started) * 1e3, 3)
    except (GatewayDBError, OSError) as exc:
        return unhealthy(str(exc).splitlines()[0], settings, pool_status(), contract)
    reasons: list[str] = []
    waiting = pending(applied, migrations)
    if waiting is None and migrations is not None:
        reasons.append("cannot read _yoyo_migration (this role lacks SELECT on it): "
                       "pending migrations unknown")
    elif waiting:
        reasons.append(f"{_plural(len(waiting), 'migration')} pending — run "
                       "`gatewaydb migrate`")
    if check is not None:
        try:
            await check()
            contract = ContractState.OK
        except SchemaMismatchError as exc:
            contract = ContractState.FAILED
            reasons.append(f"{_plural(len(exc.problems), 'statement problem')} against the "
                           "live schema — see `gatewaydb check`")
        except GatewayDBError as exc:
            contract = ContractState.FAILED
            reasons.append(f"contract check failed: {str(exc).splitlines()[0]}")
    server = ServerHealth(role="primary", address=_address(settings), reachable=True,
                          server_version=version, latency_ms=latency)
    return HealthReport(
        status=HealthStatus.DEGRADED if reasons else HealthStatus.HEALTHY, reasons=reasons,
        server_version=version, latency_ms=latency, pool=pool_status(),
        pending_migrations=waiting, contract=contract, servers=[server])
