"""Running named statements: the shared engine and the two executors that use it.

:class:`Engine` is built once per connected :class:`~gatewaydb.Database` and holds what
every call needs: each statement's SQL text by name, its row mapper, the stats recorder and
the query logger. An :class:`Executor` runs a :class:`~gatewaydb.core.query.Call` on a
connection — :class:`PoolExecutor` borrows one per call, :class:`ConnectionExecutor` runs
inside one transaction — maps rows to models and turns every failure into a gatewaydb error.

Statements go through asyncpg's per-connection statement cache: the first call on a
connection prepares a named server-side statement, and every later call on that connection,
in any acquire, reuses it (the cache is sized for the whole registry and never expires
entries). With ``statement_cache=False`` asyncpg uses unnamed statements instead, which is
what PgBouncer's transaction pooling needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeAlias, TypeVar, cast

import asyncpg
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel, ValidationError

from .checks import check_copy, copy_refusal
from .errors import (
    DatabaseError,
    InterfaceError,
    InvalidInputError,
    SchemaMismatchError,
    SchemaProblem,
    translate_error,
)
from .observe import Endpoint, Observer, Observers, log_statement
from .query import Call, Query, Returns
from .registry import Registry
from .rows import RowMapper, mapper_for
from .settings import Settings
from .stats import StatsRecorder

__all__ = ["ConnectionExecutor", "Engine", "Executor", "PooledConnection", "is_dead"]

#: A connection borrowed from the pool (asyncpg hands out proxies; generic only in stubs).
if TYPE_CHECKING:
    PooledConnection: TypeAlias = PoolConnectionProxy[Record]
else:
    PooledConnection = PoolConnectionProxy

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

query_log = logging.getLogger("gatewaydb.query")


def is_dead(conn: PooledConnection) -> bool:
    """Whether ``conn`` can no longer run anything (closed, or detached by asyncpg)."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:
        return True  # detached: asyncpg took the connection back when it closed
class _Observed(Protocol):
    """What stats, logs and error translation need of an operation (a Query or a COPY)."""

    @property
    def name(self) -> str: ...
    @property
    def redact(self) -> bool: ...
    @property
    def constraints(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class _CopyLabel:
    """A COPY's name in stats and logs: COPY's SQL is asyncpg's, not a registry statement."""

    name: str
    constraints: Mapping[str, str]
    redact: bool = False
    table: str = ""
    columns: Sequence[str] = ()


class Engine:
    """SQL text, mappers, stats, logging and observers shared by one database's executors."""

    __slots__ = ("mappers", "observers", "queries", "settings", "sql", "stats")

    def __init__(self, registry: Registry, queries: Mapping[str, Query[Any, Any]],
                 settings: Settings, observers: Iterable[Observer] = ()) -> None:
        self.settings = settings
        self.stats = StatsRecorder()
        self.queries: dict[str, Query[Any, Any]] = dict(queries)
        self.sql: dict[str, str] = {name: registry[name].sql for name in queries}
        self.mappers: dict[str, RowMapper[Any]] = {
            name: mapper_for(query.model) for name, query in queries.items()
            if query.model is not None}
        #: None without observers: the one check a call pays (see core/observe.py).
        self.observers = Observers.of(observers, Endpoint.from_dsn("primary", settings.dsn),
                                      self.sql)

    def sql_of(self, query: Query[Any, Any]) -> str:
        """``query``'s SQL, or InterfaceError if this database was not given ``query``."""
        if self.queries.get(query.name) is not query:
            raise InterfaceError(
                f"{query.name!r} ({query.declared_at}) is not one of this Database's "
                "statements: pass the module or class declaring it in Database(queries=[...])")
        return self.sql[query.name]

    def observe(self, query: _Observed, started: float, args: Sequence[Any],
                error: BaseException | None = None, *, streamed: bool = False,
                by: Executor | None = None) -> None:
        """Record one call's duration, tell the observers and log it (DEBUG; INFO with
        ``log_queries``; WARNING when slow). ``by`` is the executor that ran it."""
        elapsed = perf_counter() - started
        self.stats.record(query.name, elapsed, failed=error is not None)
        if self.observers is not None:
            self.observers.statement(query, elapsed, error, streamed=streamed, by=by)
        # A stream's duration is the consumer's pace, not the server's: never "slow".
        slow = elapsed >= self.settings.slow_query_threshold and not streamed
        if slow or self.settings.log_queries or query_log.isEnabledFor(logging.DEBUG):
            log_statement(self.settings, self.sql, query, elapsed, args, error, slow=slow)

    def fail(self, query: _Observed, started: float, args: Sequence[Any],
             exc: BaseException, by: Executor | None = None) -> NoReturn:
        """Record a failed call and raise its gatewaydb translation."""
        error = translate_error(exc, query.name, query.constraints)
        self.observe(query, started, args, error, by=by)
        if error is exc:
            raise error
        raise error from exc

    def fail_copy(self, label: _CopyLabel, started: float, exc: BaseException,
                  by: Executor | None = None) -> InvalidInputError:
        """Record a failed COPY; raise its translation, or return the InvalidInputError
        about ``copy_records``' arguments it stands for (:func:`.checks.copy_refusal`)."""
        try:
            self.fail(label, started, (), exc, by)
        except DatabaseError as error:
            refusal = copy_refusal(error)
            if refusal is None:
                raise
            return refusal

    def cancelled(self, query: _Observed, started: float | None = None,
                  by: Executor | None = None) -> None:
        """Count a call whose task was cancelled before it finished (never an error)."""
        self.stats.record_cancelled(query.name)
        if self.observers is not None and started is not None:
            self.observers.statement(query, perf_counter() - started, None, cancelled=True,
                                     by=by)
        if self.settings.log_queries or query_log.isEnabledFor(logging.DEBUG):
            log_statement(self.settings, self.sql, query, None, (), None, cancelled=True)


class Executor:
    """Runs declared queries; subclasses decide which connection each call uses."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The shared engine (stats, mappers, SQL text)."""
        return self._engine

    def served_by(self) -> Endpoint | None:
        """The server of the call that just ended in this task, for observers (None: the
        primary)."""
        return None

    async def _run(self, query: Query[Any, Any], sql: str, args: Sequence[Any]) -> Any:
        raise NotImplementedError

    async def run(self, call: Call[R]) -> R:
        """Run a declared statement: rows as models, one model or None, a value, or a tag."""
        if type(call) is not Call:
            _not_a_call(call)
        query = call.query
        args = call.args
        sql = self._engine.sql_of(query)
        started = perf_counter()
        try:
            result = await self._run(query, sql, args)
        except Exception as exc:
            self._engine.fail(query, started, args, exc, self)
        except asyncio.CancelledError:
            self._engine.cancelled(query, started, self)
            raise
        self._engine.observe(query, started, args, by=self)
        returns = query.returns
        if returns is Returns.ROWS or (returns is Returns.ROW and result is not None):
            mapper = self._engine.mappers[query.name]
            try:
                return cast(R, mapper.many(result) if returns is Returns.ROWS
                            else mapper.one(result))
            except ValidationError as exc:
                raise row_mismatch(query, exc) from exc
        return cast(R, result)

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """Bulk-insert ``records`` with one binary COPY; all rows or none.

        ``table`` and ``columns`` are constants of the calling module, never caller data;
        ``constraints`` maps constraint names to fields, as a declaration's do. Stats and
        logs name the operation ``copy_<table>``.

        Raises:
            InvalidInputError: before any SQL, a malformed name, a row of the wrong shape or
                a string PostgreSQL text cannot hold (:func:`~gatewaydb.core.checks.check_copy`);
                after the COPY was refused with nothing written, a table or column that does
                not exist or a value the driver cannot encode for its column (never quoted).
        """
        rows = check_copy(table, columns, records, constraints)
        label = _CopyLabel(f"copy_{table}", constraints or {}, table=table, columns=columns)
        started = perf_counter()
        refusal: InvalidInputError | None = None
        try:
            status = await self._copy(table, columns, rows)
        except Exception as exc:
            refusal = self._engine.fail_copy(label, started, exc, self)
        except asyncio.CancelledError:
            self._engine.cancelled(label, started, self)
            raise
        if refusal is not None:
            # Raised out here, not in the handler: nothing chained to it holds a value.
            raise refusal
        self._engine.observe(label, started, (), by=self)
        return int(status.rsplit(" ", 1)[-1])

    async def _copy(self, table: str, columns: Sequence[str],
                    records: Iterable[Sequence[Any]]) -> str:
        raise NotImplementedError

    def iterate(self, call: Call[list[M]], *, chunk_size: int) -> AsyncIterator[list[M]]:
        """Stream a rows statement through a server-side cursor, as lists of ``chunk_size``.

        Chunks, not single models: every layer of async generators costs each item a
        resumption, so only the caller's outermost loop yields model by model.

        Raises:
            InterfaceError: at once, for a statement not declared with ``rows`` or not
                given to this database.
        """
        if type(call) is not Call:
            _not_a_call(call)
        if call.query.returns is not Returns.ROWS:
            raise InterfaceError(f"{call.query.name!r} is not declared with rows(): "
                                 "only a rows statement can be streamed")
        return self._iterate(call, self._engine.sql_of(call.query), chunk_size)

    def _iterate(self, call: Call[list[M]], sql: str,
                 chunk_size: int) -> AsyncIterator[list[M]]:
        raise NotImplementedError

    async def _stream(self, conn: PooledConnection, call: Call[list[M]], sql: str,
                      chunk_size: int) -> AsyncIterator[list[M]]:
        query, args = call.query, call.args
        mapper = self._engine.mappers[query.name]
        started = perf_counter()
        try:
            cursor = await conn.cursor(sql, *args)
            more = True
            while more:
                records = await cursor.fetch(chunk_size)
                more = len(records) == chunk_size
                try:
                    models = mapper.many(records)
                except ValidationError as exc:
                    raise row_mismatch(query, exc) from exc
                # Not kept alive while the consumer holds the chunk: fewer objects for the
                # cyclic GC to traverse (and promote) on every collection meanwhile.
                del records
                if models:
                    yield models
        except Exception as exc:
            self._engine.fail(query, started, args, exc, self)
        except asyncio.CancelledError:
            self._engine.cancelled(query, started, self)
            raise
        except GeneratorExit:
            # The consumer stopped early (break, aclose): a finished call, not a failure.
            self._engine.observe(query, started, args, streamed=True, by=self)
            raise
        self._engine.observe(query, started, args, streamed=True, by=self)


def _not_a_call(value: object) -> NoReturn:
    raise InterfaceError(
        f"expected a call of a declared statement, e.g. db.run(list_notes(owner_id)), got "
        f"{type(value).__name__}")


def row_mismatch(query: Query[Any, Any], exc: ValidationError) -> SchemaMismatchError:
    """A row the model refused: the schema changed since the contract check (or it was off)."""
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(p) for p in first["loc"][1:] or first["loc"])
    model = query.model.__name__ if query.model else "model"
    return SchemaMismatchError([SchemaProblem(query.name, f"row field {field}",
                                              f"a valid {model}", first["msg"])])


class ConnectionExecutor(Executor):
    """Runs every call on one connection inside a transaction; unusable once it ends.

    One statement at a time: a second call while one is running (``asyncio.gather`` on a
    transaction) is refused with InterfaceError before anything reaches the connection.
    """

    __slots__ = ("_busy", "_conn")

    def __init__(self, engine: Engine, conn: PooledConnection) -> None:
        super().__init__(engine)
        self._conn: PooledConnection | None = conn
        self._busy = False

    def close(self) -> None:
        self._conn = None

    @property
    def connection(self) -> PooledConnection:
        if self._conn is None:
            raise InterfaceError("the transaction has ended; its connection is back in the pool")
        return self._conn

    async def _one_at_a_time(self, what: str, operation: Any) -> Any:
        conn = self.connection
        if self._busy:
            operation.close()
            raise InterfaceError(
                f"{what}: another statement is still running on this transaction; a "
                "transaction runs one statement at a time (await each call in turn)")
        self._busy = True
        try:
            return await operation
        except asyncpg.PostgresError:
            raise  # the server's error: the caller translates it with its statement's fields
        except Exception as exc:
            raise translate_error(exc, what, connection_alive=not is_dead(conn)) from exc
        finally:
            self._busy = False

    async def _run(self, query: Query[Any, Any], sql: str, args: Sequence[Any]) -> Any:
        conn = self.connection
        return await self._one_at_a_time(query.name, getattr(conn, query.returns.value)(
            sql, *args))

    async def _copy(self, table: str, columns: Sequence[str],
                    records: Iterable[Sequence[Any]]) -> str:
        conn = self.connection
        return cast(str, await self._one_at_a_time(
            f"copy_{table}", conn.copy_records_to_table(table, records=records,
                                                         columns=columns)))

    async def _iterate(self, call: Call[list[M]], sql: str,
                       chunk_size: int) -> AsyncIterator[list[M]]:
        async for chunk in self._stream(self.connection, call, sql, chunk_size):
            yield chunk
