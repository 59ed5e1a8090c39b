"""At ``connect()``: refuse named statements behind a pooler in transaction mode.

Behind PgBouncer's ``pool_mode = transaction`` (before 1.21's ``max_prepared_statements``)
a client connection's statements run on whichever server session is free, so asyncpg's named
prepared statements are missing there, or, with two processes whose statement names collide,
a different statement. Two client connections open at once that report the same server
process id (``meta_backend_pid``) prove such sharing: a direct connection, or a session-mode
pooler, gives each client its own server process. PgBouncer hands the most recently used
server session out first, so the second connection's statement lands on the first one's
session whenever the pooler is idle: the probe finds transaction pooling at ``connect()``
in that case; otherwise the first failing call says the same (see
:func:`gatewaydb.core.errors.translate_error`, SQLSTATE 26000 and 42P05).
"""

from __future__ import annotations

import asyncpg

from . import meta
from .errors import ConfigurationError, DatabaseUnavailableError
from .registry import Registry
from .settings import Settings

__all__ = ["refuse_transaction_pooler"]

NAMED_BEHIND_POOLER = (
    "this server connection is shared between client connections (a pooler in transaction "
    "mode, like PgBouncer pool_mode=transaction), where named prepared statements break; "
    "set statement_cache=false (URL ?statement_cache=false) to use unnamed statements")


async def refuse_transaction_pooler(pool: asyncpg.Pool, settings: Settings,
                                    registry: Registry) -> None:
    """Raise ConfigurationError if two client connections share one server process.

    Costs one extra connection (opened and closed) and two round trips, once per connect().

    Raises:
        ConfigurationError: the two connections share a server process.
        DatabaseUnavailableError: the probe connection could not be opened.
    """
    sql = registry[meta.meta_backend_pid.name].sql
    try:
        probe = await asyncpg.connect(settings.dsn, timeout=settings.connect_timeout,
                                      statement_cache_size=0)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise DatabaseUnavailableError(
            f"cannot connect to {settings.public_dsn()}: {exc or type(exc).__name__}") from exc
    try:
        async with pool.acquire(timeout=settings.pool_timeout) as conn:
            first = await probe.fetchval(sql)
            second = await conn.fetchval(sql)
    finally:
        await probe.close()
    if first == second:
        raise ConfigurationError(NAMED_BEHIND_POOLER)
