"""Observers: what a :class:`~gatewaydb.core.Database` reports, as it happens, to tracing,
metrics and logs.

``Database(url, observers=[...])`` takes objects with :class:`Observer`'s methods (subclass
it and override what you need). The engine calls them synchronously, on the event loop:

=========================  ================================================================
method                     called
=========================  ================================================================
``connected(source)``      after ``connect()``; ``source.pools()`` reads every pool (cheap,
                           no I/O) for gauges collected later
``disconnected(source)``   at ``disconnect()``
``statement(event)``       after each statement, COPY or stream: a :class:`StatementEvent`
``connection_wait(e)``     after each wait for a pooled connection: a :class:`WaitEvent`
``transaction_started``    when ``db.transaction()`` begins (before its connection is
                           taken); what it returns is handed back to ``transaction_ended``
``transaction_ended``      when the transaction commits, rolls back or fails to begin
=========================  ================================================================

Events carry the statement's name and SQL text as loaded from the ``.sql`` files, never a
parameter value: an observer cannot leak what it is never given. (Parameter values reach
only the query log, and only with ``log_parameters``; see :func:`log_statement`.) A
cancelled call is reported with outcome ``cancelled``, never as an error. An observer that
raises is logged and ignored: observing never fails a call.

With no observer configured, nothing here runs: the engine checks one attribute for ``None``
per call and builds no event.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qsl, urlsplit

from .query import Query
from .reports import PoolStatus

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["Endpoint", "Observer", "Observers", "PoolSource", "ServerPool", "StatementEvent",
           "TransactionEnd", "TransactionStart", "WaitEvent", "WaitOutcome", "copy_sql",
           "log_statement", "operation_of", "unobserved"]

query_log = logging.getLogger("gatewaydb.query")
log = logging.getLogger("gatewaydb.observe")

# Set in a block whose calls are the core's own background work (replica polls).
_UNOBSERVED: ContextVar[bool] = ContextVar("gatewaydb_unobserved", default=False)

Outcome = Literal["ok", "error", "cancelled"]
StatementKind = Literal["statement", "copy", "stream"]
TransactionOutcome = Literal["commit", "rollback", "error", "cancelled"]
WaitOutcome = Literal["ok", "timeout", "unavailable", "cancelled"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server a call ran on: ``primary`` or ``replicaN``, with its address.

    ``address`` is the host (or Unix socket directory) of the URL; for a multi-host URL, the
    first host. ``database`` is the database name (None when the URL leaves it to the
    server's default).
    """

    name: str
    address: str | None
    port: int | None
    database: str | None

    @classmethod
    def from_dsn(cls, name: str, dsn: str) -> Endpoint:
        """The endpoint a ``postgresql://`` DSN names (host, port and database; no user)."""
        parts = urlsplit(dsn)
        query = dict(parse_qsl(parts.query))
        hostinfo = parts.netloc.rpartition("@")[2].split(",")[0]
        host: str | None = hostinfo
        port: str | None = None
        if hostinfo.startswith("["):  # [ipv6]:port
            host, _, rest = hostinfo[1:].partition("]")
            port = rest[1:] or None
        elif ":" in hostinfo:
            host, port = hostinfo.split(":", 1)
        host = query.get("host", host) or None
        port = query.get("port", port)
        database = query.get("dbname", parts.path.lstrip("/")) or None
        try:
            number = int(str(port).split(",")[0]) if port else 5432
        except ValueError:
            number = None
        return cls(name, host.split(",")[0] if host else None, number, database)

    @property
    def pool_name(self) -> str:
        """``address:port/database``: the connection pool's name in OpenTelemetry's terms."""
        return f"{self.address or ''}:{self.port or ''}/{self.database or ''}"


@dataclass(frozen=True, slots=True)
class StatementEvent:
    """One statement, COPY or stream, after it ended.

    ``name`` is the statement's name (``copy_<table>`` for a COPY); ``sql`` its text from the
    ``.sql`` files (for a COPY, the COPY command asyncpg sends); ``operation`` the SQL command
    (``SELECT``, ``INSERT``, ``COPY``...; None when the text does not say); ``collection``
    the COPY's table. ``duration`` is in seconds (a stream's: from opening its cursor to its
    last chunk or its close). ``error`` is the gatewaydb error the caller gets (None unless
    ``outcome`` is ``error``), ``sqlstate`` the server's code when there is one.
    """

    name: str
    kind: StatementKind
    sql: str
    operation: str | None
    collection: str | None
    server: Endpoint
    duration: float
    outcome: Outcome
    error: BaseException | None = None
    sqlstate: str | None = None


@dataclass(frozen=True, slots=True)
class WaitEvent:
    """One wait for a pooled connection: ``duration`` seconds (0 when one was free)."""

    server: Endpoint
    duration: float
    outcome: WaitOutcome


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A ``db.transaction()`` beginning; ``isolation`` None is the server's default."""

    server: Endpoint
    isolation: str | None
    readonly: bool


@dataclass(frozen=True, slots=True)
class TransactionEnd:
    """How a transaction ended, ``duration`` seconds after it began.

    ``commit``; ``rollback`` (an exception left the block: ``error`` is it); ``error`` (BEGIN
    or COMMIT failed: ``error`` is the gatewaydb error); ``cancelled`` (the task was).
    """

    server: Endpoint
    duration: float
    outcome: TransactionOutcome
    error: BaseException | None = None
    sqlstate: str | None = None


@dataclass(frozen=True, slots=True)
class ServerPool:
    """One server's connection pool at one moment (see :meth:`PoolSource.pools`)."""

    server: Endpoint
    status: PoolStatus


class PoolSource(Protocol):
    """What an observer may read of a connected database at any time (no I/O)."""

    def pools(self) -> list[ServerPool]:
        """Every server's pool: the primary, then each replica."""
        ...


class Observer:
    """Receives a database's events; every method does nothing unless overridden.

    Called on the event loop, synchronously: an observer must not block (hand slow work,
    like exporting, to a thread or a queue, as OpenTelemetry's batch processor does).
    """

    def connected(self, source: PoolSource) -> None:
        """The database connected; ``source.pools()`` stays readable until disconnected."""

    def disconnected(self, source: PoolSource) -> None:
        """The database disconnected: stop reading its pools."""

    def statement(self, event: StatementEvent) -> None:
        """A statement, COPY or stream ended."""

    def connection_wait(self, event: WaitEvent) -> None:
        """A caller got a pooled connection, or gave up waiting for one."""

    def transaction_started(self, event: TransactionStart) -> object:
        """A transaction begins; the result comes back to :meth:`transaction_ended`."""
        return None

    def transaction_ended(self, started: object, event: TransactionEnd) -> None:
        """The transaction begun with ``started`` (this observer's own value) ended."""


class _Observed(Protocol):
    @property
    def name(self) -> str: ...


class _Served(Protocol):
    def served_by(self) -> Endpoint | None: ...


class Observers:
    """The engine's side of the seam: builds each event once and hands it to every observer."""

    __slots__ = ("_each", "_operations", "_sql", "primary")

    def __init__(self, observers: Sequence[Observer], primary: Endpoint,
                 sql: Mapping[str, str]) -> None:
        self._each = tuple(observers)
        self.primary = primary
        self._sql = sql
        self._operations = {name: operation_of(text) for name, text in sql.items()}

    @classmethod
    def of(cls, observers: Iterable[Observer], primary: Endpoint,
           sql: Mapping[str, str]) -> Observers | None:
        """The dispatcher, or None when there is no observer (the engine's one check)."""
        each = list(observers)
        return cls(each, primary, sql) if each else None

    def _server(self, by: _Served | None) -> Endpoint:
        server = by.served_by() if by is not None else None
        return server if server is not None else self.primary

    def statement(self, query: _Observed, duration: float, error: BaseException | None, *,
                  streamed: bool = False, cancelled: bool = False,
                  by: _Served | None = None) -> None:
        """Report one ended call of ``query`` (a declared statement or a COPY label)."""
        if _UNOBSERVED.get():
            return
        outcome: Outcome = ("cancelled" if cancelled else "error" if error is not None
                            else "ok")
        if isinstance(query, Query):
            sql, operation, collection = (self._sql[query.name],
                                          self._operations[query.name], None)
            kind: StatementKind = "stream" if streamed else "statement"
        else:
            table: object = getattr(query, "table", "")
            sql, operation, collection = (copy_sql(query), "COPY",
                                          table if isinstance(table, str) and table else None)
            kind = "copy"
        event = StatementEvent(query.name, kind, sql, operation, collection, self._server(by),
                               duration, outcome, error if outcome == "error" else None,
                               _sqlstate(error) if outcome == "error" else None)
        for observer in self._each:
            try:
                observer.statement(event)
            except Exception:
                log.exception("observer %r failed on statement %s", observer, query.name)

    def connection_wait(self, server: Endpoint | None, duration: float,
                        outcome: WaitOutcome) -> None:
        if _UNOBSERVED.get():
            return
        event = WaitEvent(server or self.primary, duration, outcome)
        for observer in self._each:
            try:
                observer.connection_wait(event)
            except Exception:
                log.exception("observer %r failed on a connection wait", observer)

    def transaction_started(self, isolation: str | None, readonly: bool) -> list[object]:
        """Tell every observer; the list of what they returned goes to transaction_ended."""
        event = TransactionStart(self.primary, isolation, readonly)
        handles: list[object] = []
        for observer in self._each:
            try:
                handles.append(observer.transaction_started(event))
            except Exception:
                log.exception("observer %r failed on a transaction start", observer)
                handles.append(None)
        return handles

    def transaction_ended(self, handles: list[object], duration: float,
                          exc: BaseException | None, *, failed: bool) -> None:
        """Report how a transaction ended: ``exc`` left its block (``failed=False``: rolled
        back, or committed when None) or its BEGIN / COMMIT (``failed=True``)."""
        outcome: TransactionOutcome
        if isinstance(exc, asyncio.CancelledError):
            outcome, exc = "cancelled", None
        elif exc is None:
            outcome = "commit"
        else:
            outcome = "error" if failed else "rollback"
        event = TransactionEnd(self.primary, duration, outcome, exc, _sqlstate(exc))
        for observer, handle in zip(self._each, handles, strict=True):
            try:
                observer.transaction_ended(handle, event)
            except Exception:
                log.exception("observer %r failed on a transaction end", observer)

    def connected(self, source: PoolSource) -> None:
        for observer in self._each:
            try:
                observer.connected(source)
            except Exception:
                log.exception("observer %r failed on connect", observer)

    def disconnected(self, source: PoolSource) -> None:
        for observer in self._each:
            try:
                observer.disconnected(source)
            except Exception:
                log.exception("observer %r failed on disconnect", observer)


@contextmanager
def unobserved() -> Iterator[None]:
    """Calls in this block, and in tasks created in it, reach no observer (the core's own
    background work, like the replica polls: not the service's calls)."""
    token = _UNOBSERVED.set(True)
    try:
        yield
    finally:
        _UNOBSERVED.reset(token)


def _sqlstate(error: BaseException | None) -> str | None:
    code: object = getattr(error, "sqlstate", None)
    return code if isinstance(code, str) else None


# -- SQL text ------------------------------------------------------------------------------

# Comments and quoted text: their words are not the statement's.
_NOT_SQL = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$",
                      re.DOTALL)
_TOKENS = re.compile(r"[()]|[A-Za-z_]+")
_COMMANDS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE",
                       "COPY", "CALL", "LOCK", "TRUNCATE", "SHOW", "SET", "DO"})


def operation_of(sql: str) -> str | None:
    """The SQL command ``sql`` runs: its first word, or after ``WITH``, the first command
    outside the parentheses of its common table expressions. None when unclear."""
    depth = 0
    leading = True
    tokens: list[str] = _TOKENS.findall(_NOT_SQL.sub(" ", sql))
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            word = token.upper()
            if leading:
                if word != "WITH":
                    return word if word.isalpha() else None
                leading = False
            elif word in _COMMANDS:
                return word
    return None


def copy_sql(label: _Observed) -> str:
    """The COPY command asyncpg sends for a ``copy_records`` call (for logs and traces)."""
    table: object = getattr(label, "table", "")
    columns: object = getattr(label, "columns", ())
    # What the caller passed, unchecked: asyncpg refuses a malformed COPY, which is logged.
    names = ([c for c in columns if isinstance(c, str)]
             if isinstance(columns, Sequence) and not isinstance(columns, str) else [])
    return (f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT binary)" if names
            else f"COPY {table} FROM STDIN (FORMAT binary)")


_cached_operation = lru_cache(maxsize=1024)(operation_of)


@lru_cache(maxsize=1024)
def _one_line(sql: str) -> str:
    return " ".join(_NOT_SQL.sub(lambda m: m[0] if m[0][0] in "'\"$" else " ", sql).split())


# -- the query log -------------------------------------------------------------------------


class _Logged(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def redact(self) -> bool: ...


def log_statement(settings: Settings, sql: Mapping[str, str], query: _Logged,
                  duration: float | None, args: Sequence[Any], error: BaseException | None,
                  *, slow: bool = False, cancelled: bool = False) -> None:
    """One record on ``gatewaydb.query`` for a call (the engine checked that one is due).

    WARNING when slow; INFO with ``log_queries``; DEBUG otherwise. Every record has the
    ``extra`` fields ``statement``, ``duration_ms`` (None for a cancelled call), ``sql``,
    ``operation``, ``outcome`` (ok, error, cancelled), ``error`` (the error's class name or
    None), ``sqlstate`` and ``params`` (the parameters' repr, or None: without
    ``log_parameters``, and always for a redacted statement).
    """
    level = (logging.WARNING if slow else logging.INFO if settings.log_queries
             else logging.DEBUG)
    if not query_log.isEnabledFor(level):
        return  # log_queries on, but nobody listens at INFO: no record to build
    text = sql[query.name] if isinstance(query, Query) else copy_sql(query)
    shown = repr(tuple(args)) if settings.log_parameters and not query.redact else None
    outcome = "cancelled" if cancelled else "error" if error is not None else "ok"
    fields = {"statement": query.name,
              "duration_ms": duration * 1e3 if duration is not None else None,
              "sql": text, "operation": _cached_operation(text), "outcome": outcome,
              "error": type(error).__name__ if error is not None else None,
              "sqlstate": _sqlstate(error), "params": shown}
    args_: list[object]
    if cancelled:
        head, args_ = "%s cancelled", [query.name]
    else:
        head = "%s%s %.3f ms params=%s%s"
        args_ = ["slow statement " if slow else "", query.name, (duration or 0.0) * 1e3,
                 "<redacted>" if shown is None else shown,
                 f" failed: {type(error).__name__}" if error is not None else ""]
    if settings.log_queries:
        head += ": %s"
        args_.append(_one_line(text))
    query_log.log(level, head, *args_, extra=fields)
