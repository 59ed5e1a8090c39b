"""yoyo, opened the gatewaydb way: any gatewaydb URL, one-line typed errors.

Shared by :mod:`gatewaydb.app.migrate` (the Python API) and
:mod:`gatewaydb.app.yoyo_backend` (the plain ``yoyo`` command with ``yoyo.ini``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations  # type: ignore[import-untyped]
from yoyo.exceptions import (  # type: ignore[import-untyped]
    BadMigration,
    LockTimeout,
    MigrationConflict,
)

from ..core.errors import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailableError,
)
from ..core.settings import Settings, mask_url, url_hosts
from ..gateway._paths import migrations_dir

__all__ = [
    "backend_url", "connect_error", "first_line", "open_backend", "public", "read", "shown_url",
    "translated", "yoyo_url",
]

_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"}
# gatewaydb's own pool settings, which libpq would refuse or misread.
_GATEWAYDB_PARAMS = frozenset(f.name for f in fields(Settings)) - {"dsn"}
# SQLSTATE classes that mean the server cannot serve us, not that a statement is wrong.
_UNAVAILABLE_CLASSES = ("08", "53", "57")

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

    A failover URL's host list (``db1:5432,db2:5433``) becomes libpq's ``host=db1,db2&
    port=5432,5433``, which yoyo passes through as it is.

    Raises:
        ConfigurationError: Another scheme, or a malformed host or port.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigurationError(f"malformed URL: {exc}") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigurationError(
            f"unsupported URL scheme {parts.scheme!r}; use postgresql://")
    netloc = parts.netloc
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in _GATEWAYDB_PARAMS]
    hosts = url_hosts(netloc)
    if len(hosts) > 1:
        # A failover URL (db1:5432,db2:5432): yoyo reads one host and port from the URL, so
        # the list goes to libpq as its host= and port= parameters, which take lists.
        userinfo, at, _ = netloc.rpartition("@")
        netloc = userinfo + at
        kept[:0] = [("host", ",".join(host for host, _ in hosts)),
                    ("port", ",".join("" if port is None else str(port) for _, port in hosts))]
    # "/" stays as is: a socket directory reads better, and yoyo.ini's %-interpolation of
    # $DATABASE_URL would choke on "%2F".
    query = urlencode(kept, safe="/,:")
    # urlunsplit drops the "//" of an empty host ("postgresql:/gw"): keep the usual form.
    rest = urlunsplit(("", netloc, parts.path, query, ""))
    return f"postgresql+psycopg:{rest if netloc else '//' + rest}"


def connect_error(exc: psycopg.Error, shown: str) -> DatabaseError:
    """The typed error for a failure to open (and prepare) yoyo's connection to ``shown``."""
    if exc.sqlstate is None or exc.sqlstate[:2] in _UNAVAILABLE_CLASSES:
        return DatabaseUnavailableError(f"cannot connect to {shown}: {first_line(exc)}",
                                        sqlstate=exc.sqlstate)
    return _database_error(exc, f"cannot prepare {shown} for migrations")


def public(url: str) -> str:
    """``url`` with its password masked, in the userinfo and in ``?password=`` alike."""
    return mask_url(url)


def shown_url(url: str) -> str:
    """What yoyo connects to, for messages: :func:`yoyo_url` with the password masked and
    the scheme the user wrote (not yoyo's ``postgresql+psycopg``)."""
    target = public(yoyo_url(url))
    return urlsplit(url).scheme + target.removeprefix("postgresql+psycopg")


def first_line(exc: BaseException) -> str:
    """The first non-blank line of ``exc``'s message (psycopg's run to several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _database_error(exc: psycopg.Error, doing: str) -> DatabaseError:
    diag = exc.diag
    message = f"{doing}: {diag.message_primary or first_line(exc)}"
    sqlstate = exc.sqlstate
    cls = (DatabaseUnavailableError if sqlstate is None or sqlstate[:2] in _UNAVAILABLE_CLASSES
           else DatabaseError)
    return cls(message, sqlstate=sqlstate, detail=diag.message_detail, hint=diag.message_hint)


@contextmanager
def translated(doing: str) -> Iterator[None]:
    """Turn psycopg's and yoyo's exceptions into gatewaydb's, prefixed with ``doing``."""
    try:
        yield
    except psycopg.Error as exc:
        raise _database_error(exc, doing) from exc
    except LockTimeout as exc:
        raise DatabaseError(f"{doing}: {exc}") from exc
    except (BadMigration, MigrationConflict) as exc:
        raise ConfigurationError(f"bad migration in {migrations_dir()}: {exc}") from exc


def backend_url(url: str) -> str:
    """The URL yoyo connects with: :func:`yoyo_url` plus libpq's ``connect_timeout``."""
    # libpq waits for the OS's TCP timeout (minutes) without connect_timeout; use
    # gatewaydb's, which libpq wants as whole seconds, at least 2.
    seconds = max(2, math.ceil(Settings.from_url(url).connect_timeout))
    target = yoyo_url(url)
    return f"{target}{'&' if '?' in target else '?'}connect_timeout={seconds}"


@contextmanager
def open_backend(url: str, *, locked: bool = True) -> Iterator[Any]:
    """yoyo's backend for ``url``, closed on exit; ``locked`` holds the migration lock.

    Readers skip the lock so that a health check never waits behind a running migration.
    """
    shown = shown_url(url)
    try:
        backend = get_backend(backend_url(url))
    except psycopg.Error as exc:
        raise connect_error(exc, shown) from exc
    try:
        if not locked:
            yield backend
            return
        with translated(f"migrating {shown}"), backend.lock():
            yield backend
    finally:
        backend.connection.close()


def read(directory: Path | None = None) -> Any:
    """The migrations in ``directory`` (default: gatewaydb's), each parsed."""
    with translated("reading migrations"):
        migrations = read_migrations(str(directory or migrations_dir()))
        for migration in migrations:
            migration.load()  # parse now, so a bad file fails before anything runs
    return migrations
