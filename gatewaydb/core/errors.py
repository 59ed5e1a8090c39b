"""Every error gatewaydb raises. Raw asyncpg exceptions never escape the public API.

::

    GatewayDBError
     ├── ConfigurationError          bad settings or URL (also a ValueError)
     ├── SQLRegistryError            a bad .sql file or declaration, named by file and line
     ├── SchemaMismatchError         statements that do not fit the live schema
     ├── InterfaceError              misuse: closed database, finished transaction, ...
     ├── InvalidInputError           bad arguments (before any SQL runs) or a CHECK / data
     │                               error only the server could see (also a ValueError)
     ├── NotFoundError               update/delete of a missing or soft-deleted row
     ├── ConflictError               unique violation, with the constraint and field
     ├── ForeignKeyError             a referenced row is missing, or a delete is refused
     └── DatabaseError               the server failed; carries sqlstate, detail, hint
          ├── DatabaseUnavailableError   cannot connect, connection lost, server shutting down
          ├── PoolTimeoutError           no free connection within pool_timeout
          ├── QueryCanceledError         statement timeout or cancel request
          └── TransactionConflictError   serialization failure or deadlock (40001, 40P01)

Server errors are classified by SQLSTATE (exact code first, then its two-character class),
never by message text, and carry what the server told: ``sqlstate``, ``constraint``, ``table``
and ``column`` (never row values). The original exception is chained as ``__cause__``. Every
error survives a pickle round trip (errors cross process pools and task queues).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "FieldError",
    "ForeignKeyError",
    "GatewayDBError",
    "InterfaceError",
    "InvalidInputError",
    "NotFoundError",
    "PoolTimeoutError",
    "QueryCanceledError",
    "SQLRegistryError",
    "SchemaMismatchError",
    "SchemaProblem",
    "TransactionConflictError",
    "is_connection_loss",
    "translate_error",
]


def _restore(cls: type[GatewayDBError], args: tuple[Any, ...],
             state: dict[str, Any]) -> GatewayDBError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class GatewayDBError(Exception):
    """Root of every gatewaydb error."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*args), which the subclasses' keyword-rich
        # constructors do not accept; rebuild from the message and the attributes instead.
        return _restore, (type(self), self.args, dict(self.__dict__))


class ConfigurationError(GatewayDBError, ValueError):
    """A setting or a database URL parameter is unknown or malformed."""


class SQLRegistryError(GatewayDBError):
    """A ``.sql`` file is malformed, or statements and declarations do not match by name."""


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One difference between a statement and what its Python caller expects."""

    statement: str
    item: str
    expected: str
    actual: str
    #: ``file:line`` of the statement's ``-- name:`` line ("" when unknown).
    origin: str = ""

    def __str__(self) -> str:
        return f"{self.statement}: {self.item}: expected {self.expected}, got {self.actual}"


class SchemaMismatchError(GatewayDBError):
    """Statements that no longer fit the live database; ``problems`` lists every one.

    ``pending_migrations`` names the migrations the database lacks, when that is the likely
    cause; the message then starts with "N migrations pending — run `gatewaydb migrate`".
    """

    def __init__(self, problems: Sequence[SchemaProblem],
                 pending_migrations: Sequence[str] = ()) -> None:
        self.problems = tuple(problems)
        self.pending_migrations = tuple(pending_migrations)
        lines = "\n".join(f"  - {p.origin + ': ' if p.origin else ''}{p}"
                          for p in self.problems)
        summary = f"{len(self.problems)} schema mismatch(es)"
        if self.pending_migrations:
            count = len(self.pending_migrations)
            summary = (f"{count} migration{'s' if count != 1 else ''} pending — run "
                       f"`gatewaydb migrate` ({summary}; pending: "
                       f"{', '.join(self.pending_migrations)})")
        super().__init__(f"{summary}:\n{lines}")


class InterfaceError(GatewayDBError):
    """The API was used wrongly: a closed database, a finished transaction, ..."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid argument: the field's name and why it was refused (never its value)."""

    field: str
    message: str


class InvalidInputError(GatewayDBError, ValueError):
    """Arguments were refused; nothing was written.

    ``errors`` names each bad field. Raised before any SQL runs for what Python can check,
    and for CHECK constraints and data errors (SQLSTATE 23514, 23502, class 22) that only the
    server can see.
    """

    def __init__(self, errors: Iterable[FieldError], *, sqlstate: str | None = None,
                 constraint: str | None = None, table: str | None = None,
                 column: str | None = None) -> None:
        self.errors = tuple(errors)
        self.sqlstate = sqlstate
        self.constraint = constraint
        self.table = table
        self.column = column
        self.fields = tuple(e.field for e in self.errors)
        text = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(f"invalid input: {text}")


class NotFoundError(GatewayDBError, LookupError):
    """The row to update or delete does not exist or is soft-deleted."""

    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key} not found")


class _ConstraintError(GatewayDBError):
    def __init__(self, message: str, *, constraint: str | None, table: str | None,
                 sqlstate: str | None, column: str | None = None) -> None:
        self.constraint = constraint
        self.table = table
        self.column = column
        self.sqlstate = sqlstate
        super().__init__(message)


class ConflictError(_ConstraintError):
    """A unique constraint refused the row. ``field`` names the column it guards."""

    def __init__(self, message: str, *, constraint: str | None = None,
                 table: str | None = None, field: str | None = None,
                 sqlstate: str | None = "23505", column: str | None = None) -> None:
        self.field = field
        super().__init__(message, constraint=constraint, table=table, sqlstate=sqlstate,
                         column=column)


class ForeignKeyError(_ConstraintError):
    """A referenced row does not exist, or rows still refer to the one being deleted."""

    def __init__(self, message: str, *, constraint: str | None = None,
                 table: str | None = None, sqlstate: str | None = "23503",
                 column: str | None = None) -> None:
        super().__init__(message, constraint=constraint, table=table, sqlstate=sqlstate,
                         column=column)


class DatabaseError(GatewayDBError):
    """The server reported an error; its diagnostics are kept on the instance.

    ``statement`` names the gatewaydb statement that failed (its registry name).
    """

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None,
                 hint: str | None = None, statement: str | None = None,
                 constraint: str | None = None, table: str | None = None,
                 column: str | None = None) -> None:
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.statement = statement
        self.constraint = constraint
        self.table = table
        self.column = column
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if self.statement:
            text = f"{text} (statement {self.statement})"
        if self.hint:
            text = f"{text}\nHINT: {self.hint}"
        return text


class DatabaseUnavailableError(DatabaseError):
    """The server cannot be reached, dropped the connection or is shutting down."""


class PoolTimeoutError(DatabaseError, TimeoutError):
    """No pooled connection became free within ``pool_timeout`` seconds."""


class QueryCanceledError(DatabaseError):
    """The statement was cancelled: ``statement_timeout`` or a cancel request (57014)."""


class TransactionConflictError(DatabaseError):
    """Serialization failure or deadlock (40001, 40P01) that outlived its retries.

    Also raised when a schema change invalidated a cached plan inside a transaction: the
    transaction is aborted, and running it again succeeds.
    """


_EXACT: dict[str, type[GatewayDBError]] = {
    "23505": ConflictError,
    "23503": ForeignKeyError,
    # ON DELETE RESTRICT reports restrict_violation on PostgreSQL 16+, 23503 before that.
    "23001": ForeignKeyError,
    "23514": InvalidInputError,
    "23502": InvalidInputError,
    # Only these two are safe to retry: 40003 (statement_completion_unknown) means a commit
    # may or may not have happened, so class 40 has no catch-all entry.
    "40001": TransactionConflictError,
    "40P01": TransactionConflictError,
    "57014": QueryCanceledError,
    "57P01": DatabaseUnavailableError,
    "57P02": DatabaseUnavailableError,
    "57P03": DatabaseUnavailableError,
    "53300": DatabaseUnavailableError,
}
_BY_CLASS: dict[str, type[GatewayDBError]] = {
    "08": DatabaseUnavailableError,
    "22": InvalidInputError,
    "23": ConflictError,
    "53": DatabaseUnavailableError,
    "57": DatabaseUnavailableError,
}


# gatewaydb never PREPAREs or DEALLOCATEs by name itself: a named statement that vanished
# (26000) or that another client already made (42P05) means the connection's server-side
# session changes under it, as behind PgBouncer's transaction or statement pooling.
_STATEMENTS_VANISHED = frozenset({"26000", "42P05"})
_POOLER_HINT = (
    "{} failed: this connection's prepared statements changed under it, which happens "
    "behind a connection pooler in transaction mode (PgBouncer pool_mode=transaction); "
    "set statement_cache=false (URL ?statement_cache=false) to use unnamed statements")


def _field_of(constraint: str | None, column: str | None,
              fields: Mapping[str, str]) -> str:
    if column:
        return column
    if constraint is None:
        return "?"
    return fields.get(constraint, constraint)


def translate_error(exc: BaseException, statement: str | None = None,
                    fields: Mapping[str, str] | None = None, *,
                    connection_alive: bool = False) -> GatewayDBError:
    """Map an asyncpg / OS exception to the gatewaydb error a caller should see.

    ``fields`` maps constraint names to the field each guards (from the statement's
    declaration); a constraint not in it is its own field name. ``connection_alive`` tells
    a misuse apart from a loss: asyncpg reports both as its ``InterfaceError`` (``another
    operation is in progress`` on a live connection, ``connection is closed`` on a dead one),
    and the caller knows which connection it was.

    Integrity errors lose their DETAIL line on the original exception too: PostgreSQL echoes
    the offending row's values there (an API key digest, say), and tracebacks print it.
    """
    if isinstance(exc, GatewayDBError):
        return exc
    if isinstance(exc, asyncpg.exceptions.InvalidCachedStatementError):
        return TransactionConflictError(
            "a schema change invalidated a prepared statement inside a transaction; "
            "run the transaction again", sqlstate=exc.sqlstate, statement=statement)
    if isinstance(exc, asyncpg.PostgresError):
        if exc.sqlstate in _STATEMENTS_VANISHED:
            return ConfigurationError(_POOLER_HINT.format(statement or "a statement"))
        return _translate_postgres(exc, statement, fields or {})
    if isinstance(exc, asyncpg.DataError):
        # asyncpg could not encode an argument; its message quotes the value, so not shown.
        return InvalidInputError([FieldError("?", "a value the database cannot store "
                                              f"({type(exc).__name__})")])
    if is_connection_loss(exc) or (isinstance(exc, asyncpg.InterfaceError)
                                   and not connection_alive):
        return DatabaseUnavailableError(f"database connection lost: {_describe(exc)}",
                                        statement=statement)
    if isinstance(exc, asyncpg.InterfaceError):
        return InterfaceError(f"{statement or 'operation'}: {exc}")
    return DatabaseError(f"{type(exc).__name__}: {exc}", statement=statement)


def is_connection_loss(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection (or the attempt to open one) is gone.

    The OSError family (refused, reset, broken pipe, timeouts), asyncpg's
    ``ConnectionDoesNotExistError`` and ``CannotConnectNowError``, a server shutting down or
    out of connection slots, and asyncpg's ``InternalClientError``, which a backend killed
    mid-protocol leaves behind (the connection is unusable afterwards).
    """
    if isinstance(exc, OSError | asyncpg.ConnectionDoesNotExistError
                  | asyncpg.exceptions.InternalClientError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = exc.sqlstate or ""
        return sqlstate[:2] == "08" or _EXACT.get(sqlstate) is DatabaseUnavailableError
    return isinstance(exc, DatabaseUnavailableError)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _translate_postgres(exc: asyncpg.PostgresError, statement: str | None,
                        fields_of: Mapping[str, str]) -> GatewayDBError:
    fields: dict[str, Any] = exc.as_dict()
    sqlstate: str = fields.get("sqlstate") or ""
    constraint: str | None = fields.get("constraint_name")
    table: str | None = fields.get("table_name")
    column: str | None = fields.get("column_name")
    cls = _EXACT.get(sqlstate) or _BY_CLASS.get(sqlstate[:2]) or DatabaseError
    message = fields.get("message") or str(exc.args[0] if exc.args else exc)
    if sqlstate.startswith("23"):
        exc.detail = None  # row values; see the docstring above
    if cls is InvalidInputError:
        if sqlstate.startswith("22"):
            # Data exceptions quote the refused value ("invalid input syntax for type uuid:
            # ..."), and so does asyncpg's own for an argument it cannot encode: say which
            # kind of value was refused, never the value.
            message = f"a value PostgreSQL cannot accept here (SQLSTATE {sqlstate})"
        return InvalidInputError([FieldError(_field_of(constraint, column, fields_of), message)],
                                 sqlstate=sqlstate, constraint=constraint, table=table,
                                 column=column)
    if cls is ConflictError:
        return ConflictError(message, constraint=constraint, table=table,
                             field=_field_of(constraint, column, fields_of), sqlstate=sqlstate,
                             column=column)
    if cls is ForeignKeyError:
        return ForeignKeyError(message, constraint=constraint, table=table, sqlstate=sqlstate,
                               column=column)
    assert issubclass(cls, DatabaseError)
    return cls(message, sqlstate=sqlstate or None, detail=fields.get("detail"),
               hint=fields.get("hint"), statement=statement, constraint=constraint,
               table=table, column=column)
