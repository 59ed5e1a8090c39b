"""Schema migrations: a thin, typed layer over yoyo's Python API.

The migrations are ``migrations/<id>.sql`` with ``<id>.rollback.sql`` (see
:func:`gatewaydb.gateway._paths.migrations_dir`); yoyo records what it applied in
``_yoyo_migration`` and serialises concurrent runs through its ``yoyo_lock`` row (10 s
timeout; a crashed run needs ``yoyo break-lock``).

Every function takes any gatewaydb database URL (see :func:`yoyo_url`), opens its own
psycopg 3 connection and blocks: async callers run them in a worker thread, e.g.
``await anyio.to_thread.run_sync(apply, url)``.

Each migration runs in its own transaction: when one fails, the ones before it stay applied
and the error names the one that failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations  # type: ignore[import-untyped]
from yoyo.exceptions import (  # type: ignore[import-untyped]
    BadMigration,
    LockTimeout,
    MigrationConflict,
)
from yoyo.migrations import descendants, topological_sort  # type: ignore[import-untyped]

from ..core.errors import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailableError,
    FieldError,
    InvalidInputError,
)
from ..core.settings import Settings, mask_url
from ..gateway._paths import migrations_dir

__all__ = [
    "MigrationStatus",
    "apply",
    "pending",
    "rollback",
    "rollback_all",
    "status",
    "yoyo_url",
]

_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"}
# gatewaydb's own pool settings, which libpq would refuse or misread.
_GATEWAYDB_PARAMS = frozenset(f.name for f in fields(Settings)) - {"dsn"}
# SQLSTATE classes that mean the server cannot serve us, not that a statement is wrong.
_UNAVAILABLE_CLASSES = ("08", "53", "57")
# yoyo's record of applied migrations (its `default_migration_table`), in UTC without zone.
_APPLIED_SQL = "SELECT migration_id, applied_at_utc FROM _yoyo_migration"


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


def yoyo_url(url: str) -> str:
    """Turn a gatewaydb database URL into the one yoyo needs.

    yoyo picks its driver by scheme (``postgresql+psycopg`` is psycopg 3; plain
    ``postgresql`` would want psycopg2) and hands every query parameter to libpq, which
    refuses gatewaydb's pool settings.

    Args:
        url: ``postgresql://``, ``postgres://``, ``postgresql+asyncpg://`` or
            ``postgresql+psycopg://``, possibly with gatewaydb settings such as
            ``connection_limit=`` in the query string.

    Returns:
        The same URL with scheme ``postgresql+psycopg`` and without gatewaydb settings;
        libpq parameters (``host=``, ``port=``, ``sslmode=``, ...) are kept, in order.

    Raises:
        ConfigurationError: Another scheme.
    """
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ConfigurationError(
            f"unsupported URL scheme {parts.scheme!r}; use postgresql://")
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in _GATEWAYDB_PARAMS]
    # "/" stays as is: a socket directory reads better, and yoyo.ini's %-interpolation of
    # $DATABASE_URL would choke on "%2F".
    query = urlencode(kept, safe="/")
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, query, ""))


def _public(url: str) -> str:
    return mask_url(url)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _database_error(exc: psycopg.Error, doing: str) -> DatabaseError:
    diag = exc.diag
    message = f"{doing}: {diag.message_primary or _first_line(exc)}"
    sqlstate = exc.sqlstate
    cls = (DatabaseUnavailableError if sqlstate is None or sqlstate[:2] in _UNAVAILABLE_CLASSES
           else DatabaseError)
    return cls(message, sqlstate=sqlstate, detail=diag.message_detail, hint=diag.message_hint)


@contextmanager
def _translated(doing: str) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise _database_error(exc, doing) from exc
    except LockTimeout as exc:
        raise DatabaseError(f"{doing}: {exc}") from exc
    except (BadMigration, MigrationConflict) as exc:
        raise ConfigurationError(f"bad migration in {migrations_dir()}: {exc}") from exc


def _backend_url(url: str) -> str:
    # libpq waits for the OS's TCP timeout (minutes) without connect_timeout; use
    # gatewaydb's, which libpq wants as whole seconds, at least 2.
    seconds = max(2, math.ceil(Settings.from_url(url).connect_timeout))
    target = yoyo_url(url)
    return f"{target}{'&' if '?' in target else '?'}connect_timeout={seconds}"


@contextmanager
def _backend(url: str, *, locked: bool = True) -> Iterator[Any]:
    """yoyo's backend for ``url``, closed on exit; ``locked`` holds the migration lock.

    Readers skip the lock so that a health check never waits behind a running migration.
    """
    shown = _public(yoyo_url(url))
    try:
        backend = get_backend(_backend_url(url))
    except psycopg.Error as exc:
        if exc.sqlstate is None or exc.sqlstate[:2] in _UNAVAILABLE_CLASSES:
            raise DatabaseUnavailableError(f"cannot connect to {shown}: {_first_line(exc)}",
                                           sqlstate=exc.sqlstate) from exc
        raise _database_error(exc, f"cannot prepare {shown} for migrations") from exc
    try:
        if not locked:
            yield backend
            return
        with _translated(f"migrating {shown}"), backend.lock():
            yield backend
    finally:
        backend.connection.close()


def _read() -> Any:
    with _translated("reading migrations"):
        migrations = read_migrations(str(migrations_dir()))
        for migration in migrations:
            migration.load()  # parse now, so a bad file fails before anything runs
    return migrations


def apply(url: str) -> list[str]:
    """Apply every pending migration, in dependency order.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).

    Returns:
        The ids applied; empty when the database was up to date.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
        DatabaseError: A migration failed (its id is in the message; it was rolled back, the
            ones before it stay applied), or another run held the lock for 10 s.
        ConfigurationError: A bad URL, or a malformed migration file.
    """
    migrations = _read()
    done: list[str] = []
    with _backend(url) as backend:
        for migration in backend.to_apply(migrations):
            # One at a time: yoyo's apply_migrations() skips a migration that fails to load.
            with _translated(f"migration {migration.id} failed"):
                backend.apply_one(migration)
            done.append(str(migration.id))
        with _translated("post-apply hook failed"):
            backend.run_post_apply(migrations)
    return done


# Picks, from the applied migrations (newest first), the ones to roll back.
_Chooser = Callable[[list[Any]], list[Any]]


def _roll_back(url: str, migrations: Any, choose: _Chooser) -> list[str]:
    done: list[str] = []
    with _backend(url) as backend:
        for migration in choose(list(backend.to_rollback(migrations))):
            with _translated(f"rollback of {migration.id} failed"):
                backend.rollback_one(migration)
            done.append(str(migration.id))
    return done


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
    migrations = _read()
    if to is None:
        return _roll_back(url, migrations, lambda applied: applied[:1])
    target = next((m for m in migrations if m.id == to), None)
    if target is None:
        raise InvalidInputError([FieldError("to", f"no migration {to!r}")])
    later = descendants(target, migrations)
    return _roll_back(url, migrations, lambda applied: [m for m in applied if m in later])


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
    return _roll_back(url, _read(), lambda applied: applied)


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
    migrations = _read()
    with _backend(url, locked=False) as backend, _translated("reading migration state"):
        applied = set(backend.get_applied_migration_hashes())  # creates yoyo's tables if new
        times: dict[str, datetime] = {
            str(migration_id): when.replace(tzinfo=UTC)
            for migration_id, when in backend.execute(_APPLIED_SQL).fetchall()
        }
    return [MigrationStatus(str(m.id), m.hash in applied,
                            times.get(m.id) if m.hash in applied else None)
            for m in topological_sort(migrations)]


def pending(url: str) -> list[str]:
    """The ids of the migrations not yet applied, in the order :func:`apply` would run them.

    Args:
        url: Any gatewaydb database URL (see :func:`yoyo_url`).

    Returns:
        The pending ids; empty when the database is up to date.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
    """
    migrations = _read()
    with _backend(url, locked=False) as backend, _translated("reading migration state"):
        return [str(m.id) for m in backend.to_apply(migrations)]
