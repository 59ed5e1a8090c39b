"""``Database``: the seed service's facade, its lifecycle, transactions and reports.

::

    async with Database("postgresql://localhost/gateway") as db:
        user = await db.create_user(email="ann@example.com")

    async with db.transaction() as tx:       # tx has every method db has
        asset = await tx.create_asset(user.id, "v.mp4", "gs://b/v.mp4")

    result = await db.transaction(create_both, retries=3)   # the seed's callback form
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar, get_args, overload

import anyio
import asyncpg

from ..gateway._paths import sql_dir
from ..gateway.api import GatewayAPI
from ..gateway.models import HealthReport, PoolStatus
from .codecs import init_connection, keep_session
from .engine import Engine, Executor, PooledConnection, PoolExecutor
from .errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    InterfaceError,
    TransactionConflictError,
)
from .health import check_schema, probe
from .query import declared, value
from .registry import Registry
from .settings import Settings
from .stats import StatementStats
from .transaction import Isolation, Transaction, TransactionBlock, full_reset

__all__ = ["Database", "DatabaseStats", "Transaction"]

T = TypeVar("T")

log = logging.getLogger("gatewaydb")

_PING = value("meta_ping", int)


class _State(enum.Enum):
    NEW = "not connected yet"
    OPEN = "connected"
    CLOSED = "disconnected"


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    """A snapshot from :meth:`Database.stats`."""

    statements: dict[str, StatementStats]
    pool: PoolStatus | None


def _load_registry() -> tuple[Registry, dict[str, Any]]:
    registry = Registry.load(sql_dir())
    queries = declared()
    registry.check_bound({name: q.declared_at for name, q in queries.items()})
    return registry, queries


_ISOLATIONS: frozenset[str] = frozenset(get_args(Isolation))


def _check_transaction_options(isolation: object, readonly: object, retries: object) -> None:
    """Refuse malformed ``transaction()`` options before a connection is taken."""
    if isolation is not None and not (isinstance(isolation, str) and isolation in _ISOLATIONS):
        raise ConfigurationError(f"isolation must be one of {', '.join(sorted(_ISOLATIONS))}")
    if not isinstance(readonly, bool):
        raise ConfigurationError("readonly must be True or False")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ConfigurationError("retries must be a whole number >= 0")


class Database(GatewayAPI):
    """The Gateway data service on a pool of asyncpg connections.

    Args:
        url: ``postgresql://`` URL; pool settings may ride in its query string
            (``?connection_limit=20&pool_timeout=30``). None reads ``$DATABASE_URL`` when
            :meth:`connect` runs, so a module-level instance can exist before configuration.
        **settings: overrides for any setting in :mod:`gatewaydb.settings`.

    Raises:
        ConfigurationError: an unknown or malformed setting (checked here, before any I/O).
    """

    _instance: ClassVar[Database | None] = None

    def __init__(self, url: str | None = None, **settings: Any) -> None:
        self._url = url
        self._overrides = settings
        # Check what can be checked now; a missing URL waits for connect().
        Settings.check_overrides(**settings)
        self._settings = Settings.from_url(url, **settings) if url is not None else None
        self._state = _State.NEW
        self._pool: asyncpg.Pool | None = None
        self._executor: PoolExecutor | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def get_instance(cls) -> Database:
        """The process-wide instance (the seed's ``DatabaseService.getInstance()``)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    @property
    def settings(self) -> Settings:
        """The resolved settings (reads ``$DATABASE_URL`` if no URL was given)."""
        if self._settings is None:
            self._settings = Settings.from_url(self._url, **self._overrides)
        return self._settings

    def is_connected(self) -> bool:
        return self._state is _State.OPEN

    async def connect(self) -> None:
        """Open the pool and, unless ``check_schema=False``, run the contract check.

        Safe to call twice; a disconnected database can connect again.

        Raises:
            ConfigurationError: no URL, or bad settings.
            SQLRegistryError: a malformed ``sql/*.sql`` file, or SQL and code out of step.
            DatabaseUnavailableError: the server cannot be reached.
            SchemaMismatchError: statements that do not fit the live schema.
        """
        async with self._lock:
            if self._state is _State.OPEN:
                return
            settings = self.settings
            registry, queries = _load_registry()
            pool = await self._create_pool(settings, len(queries))
            try:
                if settings.check_schema:
                    async with pool.acquire(timeout=settings.pool_timeout) as conn:
                        await check_schema(conn, registry, queries)
            except BaseException:
                pool.terminate()
                raise
            self._pool = pool
            self._executor = PoolExecutor(Engine(registry, queries, settings), pool)
            self._state = _State.OPEN
            log.info("connected to %s", settings.public_dsn())

    async def _create_pool(self, settings: Settings, statements: int) -> asyncpg.Pool:
        server_settings = {"application_name": settings.application_name}
        if settings.statement_timeout is not None:
            server_settings["statement_timeout"] = str(int(settings.statement_timeout * 1000))
        try:
            pool = await asyncpg.create_pool(
                settings.dsn,
                min_size=settings.min_connections,
                max_size=settings.connection_limit,
                timeout=settings.connect_timeout,
                statement_cache_size=max(100, 2 * statements) if settings.statement_cache else 0,
                max_cached_statement_lifetime=0,  # 0 = never expire: prepare once per connection
                init=init_connection,
                reset=keep_session,
                server_settings=server_settings,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            raise DatabaseUnavailableError(
                f"cannot connect to {settings.public_dsn()}: {exc or type(exc).__name__}"
            ) from exc
        assert pool is not None
        return pool

    async def disconnect(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Close the pool, waiting up to ``timeout`` seconds for connections in use.

        Idempotent. After the wait (or on any error, cancellation included) the remaining
        connections are terminated.

        Raises:
            ConfigurationError: ``timeout`` is not a number of seconds >= 0.
        """
        if (not isinstance(timeout, int | float) or isinstance(timeout, bool)
                or not timeout >= 0):  # NaN too
            raise ConfigurationError("timeout must be a number of seconds >= 0")
        async with self._lock:
            pool, executor = self._pool, self._executor
            self._pool, self._executor = None, None
            if self._state is _State.OPEN:
                self._state = _State.CLOSED
            if pool is None:
                return
            try:
                with anyio.move_on_after(timeout) as waited:
                    if executor is not None:
                        await executor.drain()
                    await pool.close()
            except BaseException:
                pool.terminate()
                raise
            if waited.cancelled_caught:
                log.warning("connections still busy after %gs; terminated them", timeout)
                pool.terminate()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()

    # -- plumbing ------------------------------------------------------------------------

    def _pool_executor(self) -> PoolExecutor:
        if self._executor is None:
            raise InterfaceError(f"Database is {self._state.value}: call `await db.connect()` "
                                 "or use `async with Database(...) as db`")
        return self._executor

    @property
    def _ex(self) -> Executor:
        return self._pool_executor()

    async def _release(self, conn: PooledConnection, *, clean: bool) -> None:
        if self._executor is not None:
            await self._executor.release(conn, clean=clean)
        else:  # disconnected meanwhile: the pool is gone
            conn.terminate()

    # -- raw access, transactions --------------------------------------------------------

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[PooledConnection]:
        """A raw asyncpg connection for custom SQL (the seed's ``getClient()``).

        Its session is fully reset before it returns to the pool, so settings, listeners
        or advisory locks taken through it never leak to other callers.

        Raises:
            PoolTimeoutError: no connection within ``pool_timeout``.
        """
        conn = await self._pool_executor().acquire()
        clean = False
        try:
            yield conn
        finally:
            try:
                if not conn.is_closed():
                    await full_reset(conn)
                    clean = True
            finally:
                await self._release(conn, clean=clean)

    @overload
    def transaction(self, fn: None = None, *, isolation: Isolation | None = None,
                    readonly: bool = False) -> TransactionBlock: ...

    @overload
    def transaction(self, fn: Callable[[Transaction], Awaitable[T]], *,
                    isolation: Isolation | None = None, readonly: bool = False,
                    retries: int = 0) -> Coroutine[Any, Any, T]: ...

    def transaction(self, fn: Callable[[Transaction], Awaitable[T]] | None = None, *,
                    isolation: Isolation | None = None, readonly: bool = False,
                    retries: int = 0) -> TransactionBlock | Coroutine[Any, Any, T]:
        """A transaction, as a block or around a callback.

        ``async with db.transaction() as tx:`` runs the block in one transaction: an
        exception rolls it back. ``await db.transaction(fn)`` runs ``fn(tx)`` the same way
        and returns its result; with ``retries=N`` a serialization failure or deadlock
        (40001, 40P01) reruns ``fn`` up to N more times, after a short random backoff, so
        ``fn`` must be safe to run again.

        Args:
            isolation: ``read_committed`` (server default), ``repeatable_read`` or
                ``serializable``.
            readonly: refuse writes.
            retries: callback form only; how many times to rerun on a conflict.

        Raises:
            ConfigurationError: an unknown ``isolation``, a non-bool ``readonly``, ``retries``
                not a whole number >= 0 (raised by the call itself, before any I/O).
            InterfaceError: ``fn`` is not callable, or ``retries`` without ``fn``.
            TransactionConflictError: the conflict outlived the retries.
        """
        _check_transaction_options(isolation, readonly, retries)
        if fn is None:
            if retries:
                raise InterfaceError("retries= needs the callback form: transaction(fn, ...)")
            return TransactionBlock(self, isolation, readonly)
        if not callable(fn):
            raise InterfaceError("transaction(fn): fn must be a callable taking the transaction")
        return self._run_transaction(fn, isolation, readonly, retries)

    async def _run_transaction(self, fn: Callable[[Transaction], Awaitable[T]],
                               isolation: Isolation | None, readonly: bool, retries: int) -> T:
        attempt = 0
        while True:
            try:
                async with TransactionBlock(self, isolation, readonly) as tx:
                    return await fn(tx)
            except TransactionConflictError:
                if attempt >= retries:
                    raise
                attempt += 1
                log.info("transaction conflict, retry %d of %d", attempt, retries)
                await anyio.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))

    # -- reports -------------------------------------------------------------------------

    async def check(self) -> None:
        """Run the contract check now (as ``connect()`` does by default).

        Raises:
            SchemaMismatchError: listing every statement that does not fit the schema, and
                the pending migrations when there are any (``.pending_migrations``).
        """
        registry, queries = _load_registry()
        async with self.acquire() as conn:
            await check_schema(conn, registry, queries)

    async def health_check(self) -> bool:
        """True when the server answers a trivial query within ``pool_timeout``. Never raises."""
        try:
            with anyio.fail_after(self.settings.pool_timeout):
                return await self._pool_executor().fetchval(_PING) == 1
        except Exception:
            return False

    async def health(self, *, check_contract: bool = False) -> HealthReport:
        """Status (healthy, degraded, unhealthy) with its reasons, server version, latency,
        pool usage and pending migrations: one round trip on this database's own pool.

        ``check_contract=True`` also runs :meth:`check` (one round trip per statement);
        otherwise the report's ``contract`` is what ``connect()`` found. Never raises for a
        server-side problem (see :func:`gatewaydb.core.health.probe`).
        """
        return await probe(self._executor, self._settings, self._pool_status,
                           self.check if check_contract else None)

    def _pool_status(self) -> PoolStatus | None:
        pool = self._pool
        if pool is None:
            return None
        size = pool.get_size()
        idle = self._executor.idle_count if self._executor else pool.get_idle_size()
        return PoolStatus(size=size, in_use=size - idle, idle=idle, max_size=pool.get_max_size())

    def stats(self) -> DatabaseStats:
        """Per-statement counts, errors and latency percentiles, and the pool's state."""
        statements = self._executor.engine.stats.snapshot() if self._executor else {}
        return DatabaseStats(statements=statements, pool=self._pool_status())

