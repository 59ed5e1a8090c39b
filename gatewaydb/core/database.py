"""``Database``: a service's statements on a pool — lifecycle, transactions and reports.

The core's ``Database`` knows no domain: it runs the declarations it is given, from the SQL
directories it is given (the Gateway API is one such service, :mod:`gatewaydb.gateway`)::

    async with Database(url, sql_paths=[HERE / "sql"], queries=[queries]) as db:
        notes = await db.run(queries.list_notes(owner_id, take=10))

    async with db.transaction() as tx:       # tx runs the same calls, in one transaction
        await tx.run(queries.rename_note(note_id, "new title"))
        async with tx.transaction():         # a SAVEPOINT: rolled back alone on error
            ...

    result = await db.transaction(create_both, retries=3)   # the callback form
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, get_args, overload

import anyio
import asyncpg
from pydantic import BaseModel
from typing_extensions import TypeVar

from . import meta, migration_state
from .codecs import init_connection, keep_session
from .engine import Engine, Executor, PooledConnection, is_dead
from .errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    InterfaceError,
    TransactionConflictError,
    translate_error,
)
from .health import check_schema, probe
from .observe import Endpoint, Observer, ServerPool
from .pool_executor import PoolExecutor
from .pooler import refuse_transaction_pooler
from .query import Call, Query, collect
from .registry import Registry
from .reports import HealthReport, PoolStatus, ServerStatus
from .routing import Router, RoutingExecutor, Server, pool_status, replica_urls_from_env
from .settings import Settings
from .stats import StatementStats
from .transaction import Isolation, Transaction, TransactionBlock, TxT, full_reset

__all__ = ["Database", "DatabaseStats", "Transaction"]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("gatewaydb")

_PING = meta.meta_ping()


class _State(enum.Enum):
    NEW = "not connected yet"
    OPEN = "connected"
    CLOSED = "disconnected"


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    """A snapshot from :meth:`Database.stats`."""

    statements: dict[str, StatementStats]
    pool: PoolStatus | None
    #: Every server with its pool, when read replicas are configured.
    servers: list[ServerStatus] = field(default_factory=list)


_ISOLATIONS: frozenset[str] = frozenset(get_args(Isolation))


def _check_transaction_options(isolation: object, readonly: object, retries: object) -> None:
    """Refuse malformed ``transaction()`` options before a connection is taken."""
    if isolation is not None and not (isinstance(isolation, str) and isolation in _ISOLATIONS):
        raise ConfigurationError(f"isolation must be one of {', '.join(sorted(_ISOLATIONS))}")
    if not isinstance(readonly, bool):
        raise ConfigurationError("readonly must be True or False")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ConfigurationError("retries must be a whole number >= 0")


def _check_replica_urls(urls: Iterable[object], overrides: Mapping[str, Any]) -> None:
    """Refuse a malformed replica URL as the primary's would be: a typo is a configuration
    error, not a replica that is down."""
    for number, url in enumerate(urls, 1):
        if not isinstance(url, str) or not url.strip():
            raise ConfigurationError("replicas must be a list of URLs")
        try:
            Settings.from_url(url, **overrides)
        except ConfigurationError as exc:
            raise ConfigurationError(f"replica {number}: {exc}") from None


class Database(Generic[TxT]):
    """A service's named statements on a pool of asyncpg connections.

    Args:
        url: ``postgresql://`` URL; pool settings may ride in its query string
            (``?connection_limit=20&pool_timeout=30``). None reads ``$DATABASE_URL`` when
            :meth:`connect` runs, so a module-level instance can exist before configuration.
        sql_paths: directories of ``.sql`` files (``-- name:`` statements) to load.
        queries: where the declarations of those statements are: modules, classes (their
            attributes are scanned) or single declarations. Every statement in
            ``sql_paths`` must be declared, and every declaration must have its statement.
        migrations_path: the service's yoyo migrations directory, if it has one: health
            reports and schema mismatches then name the migrations the database lacks.
        replicas: URLs of streaming read replicas (one pool each, sized by the same
            settings). Read-only calls outside transactions go to a usable one, with
            read-your-writes (see :mod:`gatewaydb.core.routing`). None: with ``url`` None,
            ``$DATABASE_REPLICA_URLS`` (comma-separated) when :meth:`connect` runs; else none.
        max_replica_lag: seconds a replica may be behind and still serve reads.
        observers: objects told of every statement, connection wait and transaction, for
            tracing and metrics (:mod:`gatewaydb.core.observe`; :mod:`gatewaydb.otel`,
            :mod:`gatewaydb.prometheus`). None: nothing is observed, at no cost.
        **settings: overrides for any setting in :mod:`gatewaydb.settings`.

    Raises:
        ConfigurationError: an unknown or malformed setting (checked here, before any I/O).
    """

    #: What :meth:`transaction` hands out; a service's subclass may add its own methods.
    transaction_class: ClassVar[type[Transaction]] = Transaction

    def __init__(self, url: str | None = None, *, sql_paths: Iterable[Path | str] = (),
                 queries: Iterable[object] = (), migrations_path: Path | str | None = None,
                 replicas: Sequence[str] | None = None, max_replica_lag: float = 5.0,
                 observers: Iterable[Observer] | None = None, **settings: Any) -> None:
        self._observers = list(observers or ())
        self._migrations = Path(migrations_path) if migrations_path is not None else None
        core_sql: list[Path] = [meta.SQL_DIR]
        core_sources: list[object] = [meta]
        if self._migrations is not None:
            core_sql.append(migration_state.SQL_DIR)
            core_sources.append(migration_state)
        self._sql_paths = (*core_sql, *map(Path, sql_paths))
        self._sources = (*core_sources, *queries)
        self._url = url
        if isinstance(replicas, str):
            raise ConfigurationError("replicas must be a list of URLs, not one string")
        self._replica_urls = list(replicas) if replicas is not None else None
        if not max_replica_lag > 0:
            raise ConfigurationError(f"max_replica_lag must be > 0 seconds, got "
                                     f"{max_replica_lag!r}")
        self._max_replica_lag = float(max_replica_lag)
        self._router: Router | None = None
        self._reader: RoutingExecutor | None = None
        self._overrides = settings
        # Check what can be checked now; a missing URL waits for connect().
        Settings.check_overrides(**settings)
        self._settings = Settings.from_url(url, **settings) if url is not None else None
        _check_replica_urls(self._replica_urls or (), settings)
        self._state = _State.NEW
        self._pool: asyncpg.Pool | None = None
        self._executor: PoolExecutor | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------

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
            SQLRegistryError: a malformed ``.sql`` file, or statements and declarations out
                of step (a statement no code declares, a declaration with no statement).
            DatabaseUnavailableError: the server cannot be reached.
            SchemaMismatchError: statements that do not fit the live schema.
        """
        async with self._lock:
            if self._state is _State.OPEN:
                return
            settings = self.settings
            registry, queries = self._load()
            pool = await self._create_pool(settings, len(queries))
            try:
                if settings.check_schema:
                    async with pool.acquire(timeout=settings.pool_timeout) as conn:
                        await check_schema(conn, registry, queries, self._migrations)
                if settings.statement_cache:
                    await refuse_transaction_pooler(pool, settings, registry)
            except Exception as exc:
                pool.terminate()
                error = translate_error(exc)
                if error is exc:
                    raise
                raise error from exc
            except BaseException:
                pool.terminate()
                raise
            engine = Engine(registry, queries, settings, self._observers)
            executor = PoolExecutor(engine, pool, Endpoint.from_dsn("primary", settings.dsn))
            try:
                await self._connect_replicas(executor, pool, len(queries))
            except BaseException:
                pool.terminate()
                raise
            self._pool, self._executor = pool, executor
            self._state = _State.OPEN
            log.info("connected to %s", settings.public_dsn())
            if engine.observers is not None:
                engine.observers.connected(self)

    def _replica_list(self) -> list[str]:
        if self._replica_urls is not None:
            return self._replica_urls
        return [] if self._url is not None else replica_urls_from_env()

    async def _connect_replicas(self, executor: PoolExecutor, pool: asyncpg.Pool,
                                statements: int) -> None:
        urls = self._replica_list()
        if not urls:
            return
        _check_replica_urls(urls, self._overrides)  # $DATABASE_REPLICA_URLS, read only now

        async def replica_pool(url: str) -> tuple[str, asyncpg.Pool]:
            settings = Settings.from_url(url, **self._overrides)
            # A replica that is down now is not an error: reads go elsewhere until it
            # answers. Its pool opens no connection up front, so creating it never fails.
            return settings.public_dsn(), await self._create_pool(settings, statements,
                                                                  min_size=0)

        primary = Server("primary", "primary", self.settings.public_dsn(), pool, executor)
        self._router = await Router.open(primary, urls, self._max_replica_lag, replica_pool)
        self._reader = RoutingExecutor(self._router)

    async def _create_pool(self, settings: Settings, statements: int,
                           min_size: int | None = None) -> asyncpg.Pool:
        server_settings = {"application_name": settings.application_name}
        if settings.statement_timeout is not None:
            server_settings["statement_timeout"] = str(int(settings.statement_timeout * 1000))
        try:
            pool = await asyncpg.create_pool(
                settings.dsn,
                min_size=settings.min_connections if min_size is None else min_size,
                max_size=settings.connection_limit,
                timeout=settings.connect_timeout,
                statement_cache_size=max(100, 2 * statements) if settings.statement_cache else 0,
                max_cached_statement_lifetime=0,  # 0 = never expire: prepare once per connection
                # Enforced by asyncpg for the connections in its own queue; PoolExecutor
                # enforces both for its free list.
                max_queries=settings.max_queries,
                max_inactive_connection_lifetime=settings.idle_timeout,
                init=init_connection,
                reset=keep_session,
                server_settings=server_settings,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.exceptions.InternalClientError) as exc:
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
            pool, executor, router = self._pool, self._executor, self._router
            self._pool, self._executor, self._router, self._reader = None, None, None, None
            if self._state is _State.OPEN:
                self._state = _State.CLOSED
            if pool is None:
                return
            if executor is not None and executor.engine.observers is not None:
                executor.engine.observers.disconnected(self)
            try:
                with anyio.move_on_after(timeout) as waited:
                    if router is not None:
                        await router.close()
                    if executor is not None:
                        await executor.drain()
                    await pool.close()
            except BaseException:
                pool.terminate()
                if router is not None:
                    router.terminate()
                raise
            if waited.cancelled_caught:
                log.warning("connections still busy after %gs; terminated them", timeout)
                pool.terminate()
                if router is not None:
                    router.terminate()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()

    def declarations(self) -> dict[str, Query[Any, Any]]:
        """Every statement declaration this database runs (its own and the core's), by name.

        Raises:
            SQLRegistryError: two declarations of one name.
        """
        return collect(self._sources)

    def _load(self) -> tuple[Registry, dict[str, Query[Any, Any]]]:
        registry = Registry.load(*self._sql_paths)
        queries = self.declarations()
        registry.check_bound({name: q.declared_at for name, q in queries.items()})
        return registry, queries

    # -- running statements --------------------------------------------------------------

    def run(self, call: Call[R]) -> Coroutine[Any, Any, R]:
        """Run a declared statement on a pooled connection.

        ``await db.run(list_notes(owner_id, take=10))`` gives what the declaration says:
        ``list[Model]`` (``rows``), ``Model | None`` (``row``), the value or None
        (``value``), the command tag (``command``).

        Raises:
            InterfaceError: the declaration is not one of this database's ``queries``.
            GatewayDBError: the server's error, translated (see :mod:`gatewaydb.errors`).
        """
        return self._caller().run(call)

    def iterate(self, call: Call[list[M]], *,
                chunk_size: int = 1000) -> AsyncIterator[list[M]]:
        """Stream a ``rows`` statement through a server-side cursor, ``chunk_size`` a time.

        The stream holds one pooled connection, in a read-only transaction (one snapshot),
        until it is exhausted or closed.
        """
        return self._caller().iterate(call, chunk_size=chunk_size)

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """Bulk-insert ``records`` into ``table`` with one binary COPY; all rows or none.

        ``table`` and ``columns`` must be constants of the calling code, never user data.

        Returns:
            The number of rows written.
        """
        return await self._caller().copy_records(table, columns, records,
                                                 constraints=constraints)

    # -- plumbing ------------------------------------------------------------------------

    def _pool_executor(self) -> PoolExecutor:
        if self._executor is None:
            raise InterfaceError(f"Database is {self._state.value}: call `await db.connect()` "
                                 "or use `async with Database(...) as db`")
        return self._executor

    def _caller(self) -> Executor:
        """The executor of calls outside transactions: routed when there are replicas."""
        if self._reader is not None:
            return self._reader
        return self._pool_executor()

    async def _wrote(self) -> None:
        """After a write outside the routed calls (a transaction, raw access): remember the
        primary's WAL position for this task's read-your-writes."""
        if self._router is not None:
            await self._router.wrote()

    async def expire_connections(self) -> None:
        """Replace every pooled connection: idle ones now, busy ones when they come back.

        For after a failover or a migration that changed types, so that no connection keeps
        a session or cached plans from before. Calls keep running meanwhile.
        """
        await self._pool_executor().expire_connections()
        if self._router is not None:
            await self._router.expire_connections()

    # -- raw access, transactions --------------------------------------------------------

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[PooledConnection]:
        """A raw asyncpg connection for custom SQL (the seed's ``getClient()``).

        Its session is fully reset before it returns to the pool, so settings, listeners
        or advisory locks taken through it never leak to other callers; once the block
        ends, the connection object refuses every call (asyncpg detaches it).

        Raises:
            PoolTimeoutError: no connection within ``pool_timeout``.
            DatabaseUnavailableError: the server could not be reached within
                ``pool_timeout``.
        """
        pool_ex = self._pool_executor()
        lease = await pool_ex.acquire()
        clean = False
        try:
            yield lease.conn
        finally:
            try:
                if not is_dead(lease.conn):
                    clean = await full_reset(lease.conn)
            finally:
                await pool_ex.release(lease, clean=clean, detach=True)
        await self._wrote()  # raw SQL may have written

    @asynccontextmanager
    async def primary(self) -> AsyncIterator[None]:
        """Send every call in the block (in this task) to the primary, replicas or not.

        Example::

            async with db.primary():
                user = await db.get_user_by_id(user_id)   # never from a replica
        """
        if self._router is None:
            yield
            return
        with self._router.pinned():
            yield

    @overload
    def transaction(self, fn: None = None, *, isolation: Isolation | None = None,
                    readonly: bool = False) -> TransactionBlock[TxT]: ...

    @overload
    def transaction(self, fn: Callable[[TxT], Awaitable[T]], *,
                    isolation: Isolation | None = None, readonly: bool = False,
                    retries: int = 0) -> Coroutine[Any, Any, T]: ...

    def transaction(self, fn: Callable[[TxT], Awaitable[T]] | None = None, *,
                    isolation: Isolation | None = None, readonly: bool = False,
                    retries: int = 0) -> TransactionBlock[TxT] | Coroutine[Any, Any, T]:
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

    async def _run_transaction(self, fn: Callable[[TxT], Awaitable[T]],
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
        registry, queries = self._load()
        async with self.acquire() as conn:
            await check_schema(conn, registry, queries, self._migrations)

    async def health_check(self) -> bool:
        """True when the server answers a trivial query within ``pool_timeout``. Never raises."""
        try:
            with anyio.fail_after(self.settings.pool_timeout):
                return await self._pool_executor().run(_PING) == 1
        except Exception:
            return False

    async def health(self, *, check_contract: bool = False) -> HealthReport:
        """Status (healthy, degraded, unhealthy) with its reasons, server version, latency,
        pool usage and pending migrations: one round trip on this database's own pool.

        ``check_contract=True`` also runs :meth:`check` (one round trip per statement);
        otherwise the report's ``contract`` is what ``connect()`` found. Never raises for a
        server-side problem (see :func:`gatewaydb.core.health.probe`).
        """
        report = await probe(self._executor, self._settings, self._pool_status,
                             self.check if check_contract else None, self._migrations)
        return self._router.add_to(report) if self._router is not None else report

    def pools(self) -> list[ServerPool]:
        """Every server's pool as it is now, the primary first (empty when not connected).

        Synchronous and cheap (no I/O, no statement summaries): what metrics collectors read
        at each scrape. Replicas are named ``replica1``, ``replica2``... in ``replicas=`` order.
        """
        if self._router is not None:
            return [ServerPool(s.executor.server or Endpoint.from_dsn(s.name, s.dsn),
                               pool_status(s.pool, s.executor)) for s in self._router.servers]
        executor, pool = self._executor, self._pool
        if executor is None or pool is None or executor.server is None:
            return []
        return [ServerPool(executor.server, pool_status(pool, executor))]

    def _pool_status(self) -> PoolStatus | None:
        if self._pool is None or self._executor is None:
            return None
        return pool_status(self._pool, self._executor)

    def stats(self) -> DatabaseStats:
        """Per-statement counts, errors and latency percentiles, and the pool's state."""
        statements = self._executor.engine.stats.snapshot() if self._executor else {}
        return DatabaseStats(statements=statements, pool=self._pool_status(),
                             servers=self._router.status() if self._router is not None else [])

