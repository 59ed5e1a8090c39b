"""Schema migrations: a thin, typed layer over yoyo's Python API.

The migrations are ``migrations/<id>.sql`` with ``<id>.rollback.sql`` (see
:func:`gatewaydb.gateway._paths.migrations_dir`); yoyo records what it applied in
``_yoyo_migration`` and serialises concurrent runs through its ``yoyo_lock`` row (10 s
timeout; a crashed run needs ``yoyo break-lock``).

Every function takes any gatewaydb database URL (see :func:`yoyo_url`), opens its own
psycopg 3 connection and blocks: async callers run them in a worker thread, e.g.
``await anyio.to_thread.run_sync(apply, url)``.

Each migration runs in its own transaction: when one fails, the ones before it stay applied
and the error names the one that failed. :func:`mark_applied` and :func:`mark_rolled_back`
repair yoyo's record without running anything (like ``prisma migrate resolve``), and
:func:`plan_rollback` says what a rollback would undo before it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg import sql
from yoyo.migrations import descendants, topological_sort  # type: ignore[import-untyped]

from ..core.errors import FieldError, InvalidInputError
from ..gateway._paths import migrations_dir
from ._yoyo import open_backend, read, translated, yoyo_url

__all__ = [
    "MigrationStatus",
    "RollbackStep",
    "apply",
    "mark_applied",
    "mark_rolled_back",
    "pending",
    "plan_rollback",
    "rollback",
    "rollback_all",
    "status",
    "yoyo_url",
]

# yoyo's record of applied migrations (its `default_migration_table`), in UTC without zone.
_APPLIED_SQL = "SELECT migration_id, applied_at_utc FROM _yoyo_migration"


# The tables a rollback script drops: what `gatewaydb rollback` counts before it asks.
_DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)",
                         re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RollbackStep:
    """One migration a rollback would undo, and the tables (with their rows) it drops."""

    id: str
    drops: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """One migration found in the migrations directory.

    Attributes:
        id: The file name without ``.sql``, e.g. ``0002_users_assets_clips``.
        applied: Whether the database has it.
        applied_at: When it was applied (UTC), or None.
    """

    id: str
    applied: bool
    applied_at: datetime | None


def apply(url: str, on_applied: Callable[[str], None] | None = None,
          directory: Path | None = None) -> list[str]:
    """Apply every pending migration, in dependency order.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).
        on_applied: Called with each id as soon as that migration is applied (progress).
        directory: The migrations (default: gatewaydb's; a service passes its own).

    Returns:
        The ids applied; empty when the database was up to date.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
        DatabaseError: A migration failed (its id is in the message; it was rolled back, the
            ones before it stay applied), or another run held the lock for 10 s.
        ConfigurationError: A bad URL, or a malformed migration file.
    """
    migrations = read(directory)
    done: list[str] = []
    with open_backend(url) as backend:
        for migration in backend.to_apply(migrations):
            # One at a time: yoyo's apply_migrations() skips a migration that fails to load.
            with translated(f"migration {migration.id} failed"):
                backend.apply_one(migration)
            done.append(str(migration.id))
            if on_applied is not None:
                on_applied(done[-1])
        with translated("post-apply hook failed"):
            backend.run_post_apply(migrations)
    return done


# Picks, from the applied migrations (newest first), the ones to roll back.
_Chooser = Callable[[list[Any]], list[Any]]


def _roll_back(url: str, migrations: Any, choose: _Chooser) -> list[str]:
    done: list[str] = []
    with open_backend(url) as backend:
        for migration in choose(list(backend.to_rollback(migrations))):
            with translated(f"rollback of {migration.id} failed"):
                backend.rollback_one(migration)
            done.append(str(migration.id))
    return done


def _chooser(migrations: Any, to: str | None) -> _Chooser:
    if to is None:
        return lambda applied: applied[:1]
    target = next((m for m in migrations if m.id == to), None)
    if target is None:
        raise InvalidInputError([FieldError("to", f"no migration {to!r}")])
    later = descendants(target, migrations)
    return lambda applied: [m for m in applied if m in later]


def rollback(url: str, to: str | None = None) -> list[str]:
    """Roll back the latest migration, or every migration that depends on ``to``.

    Unlike ``yoyo rollback -r ID``, ``to`` itself stays applied: the schema ends at ``to``.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).
        to: A migration id; None rolls back only the latest applied migration.

    Returns:
        The ids rolled back, newest first; empty when there was nothing to roll back.

    Raises:
        InvalidInputError: ``to`` names no migration (checked before connecting).
        DatabaseUnavailableError: The database cannot be reached.
        DatabaseError: A rollback script failed (its id is in the message; the migrations
            rolled back before it stay rolled back).
    """
    migrations = read()
    return _roll_back(url, migrations, _chooser(migrations, to))


def plan_rollback(url: str, to: str | None = None) -> list[RollbackStep]:
    """What :func:`rollback` with the same arguments would undo, without undoing it.

    Returns:
        One step per migration, newest first, with each table its rollback script drops
        and that table's row count now (None when the table is already gone).

    Raises:
        InvalidInputError: ``to`` names no migration.
        DatabaseUnavailableError: The database cannot be reached.
    """
    migrations = read()
    choose = _chooser(migrations, to)
    steps: list[RollbackStep] = []
    with open_backend(url, locked=False) as backend, translated("planning the rollback"):
        for migration in choose(list(backend.to_rollback(migrations))):
            script_path = migrations_dir() / f"{migration.id}.rollback.sql"
            script = script_path.read_text("utf-8") if script_path.exists() else ""
            drops = tuple((table, _row_count(backend, table))
                          for table in _DROP_TABLE.findall(script))
            steps.append(RollbackStep(str(migration.id), drops))
    return steps


def _row_count(backend: Any, table: str) -> int | None:
    # The name comes from one of our own rollback scripts and is quoted as an identifier.
    found = backend.connection.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    if found is None or found[0] is None:
        return None
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    counted = backend.connection.execute(query).fetchone()
    return int(counted[0]) if counted else None


def _mark(url: str, ids: Sequence[str], applied: bool) -> list[str]:
    migrations = read()
    by_id = {str(m.id): m for m in migrations}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise InvalidInputError([FieldError("id", f"no migration {i!r}") for i in unknown])
    with open_backend(url) as backend:
        done = {m.hash for m in migrations if m.hash in
                set(backend.get_applied_migration_hashes())}
        wrong = [i for i in ids if (by_id[i].hash in done) is applied]
        if wrong:
            state = "applied" if applied else "not applied"
            raise InvalidInputError([FieldError("id", f"{i!r} is already {state}")
                                     for i in wrong])
        chosen = migrations.replace([by_id[i] for i in ids])
        with translated("updating yoyo's record"):
            if applied:
                backend.mark_migrations(chosen)
            else:
                backend.unmark_migrations(chosen)
    return list(ids)


def mark_applied(url: str, ids: Sequence[str]) -> list[str]:
    """Record migrations as applied without running them (their changes were made by hand).

    Raises:
        InvalidInputError: An id names no migration, or one already applied.
        DatabaseUnavailableError: The database cannot be reached.
    """
    return _mark(url, ids, applied=True)


def mark_rolled_back(url: str, ids: Sequence[str]) -> list[str]:
    """Record migrations as not applied without running their rollback scripts.

    Raises:
        InvalidInputError: An id names no migration, or one not applied.
        DatabaseUnavailableError: The database cannot be reached.
    """
    return _mark(url, ids, applied=False)


def rollback_all(url: str) -> list[str]:
    """Roll back every applied migration: the database is left without gatewaydb's schema.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).

    Returns:
        The ids rolled back, newest first.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
        DatabaseError: A rollback script failed (its id is in the message).
    """
    return _roll_back(url, read(), lambda applied: applied)


def status(url: str) -> list[MigrationStatus]:
    """Every migration in the migrations directory, in dependency order, with its state.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).

    Returns:
        One :class:`MigrationStatus` per migration file. Migrations recorded in the database
        but missing from the directory are not listed.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
    """
    migrations = read()
    with open_backend(url, locked=False) as backend, translated("reading migration state"):
        applied = set(backend.get_applied_migration_hashes())  # creates yoyo's tables if new
        times: dict[str, datetime] = {
            str(migration_id): when.replace(tzinfo=UTC)
            for migration_id, when in backend.execute(_APPLIED_SQL).fetchall()
        }
    return [MigrationStatus(str(m.id), m.hash in applied,
                            times.get(m.id) if m.hash in applied else None)
            for m in topological_sort(migrations)]


def pending(url: str, directory: Path | None = None) -> list[str]:
    """The ids of the migrations not yet applied, in the order :func:`apply` would run them.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).

    Returns:
        The pending ids; empty when the database is up to date.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
    """
    migrations = read(directory)
    with open_backend(url, locked=False) as backend, translated("reading migration state"):
        return [str(m.id) for m in backend.to_apply(migrations)]
