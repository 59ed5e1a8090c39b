"""Every error gatewaydb raises. Raw asyncpg exceptions never escape the public API.

::

    GatewayDBError
     ├── ConfigurationError          bad settings or URL (also a ValueError)
     ├── SQLRegistryError            a bad sql/*.sql file, named by file and line
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
never by message text. The original exception is chained as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    "translate_error",
]


class GatewayDBError(Exception):
    """Root of every gatewaydb error."""


class ConfigurationError(GatewayDBError, ValueError):
    """A setting or a database URL parameter is unknown or malformed."""


class SQLRegistryError(GatewayDBError):
    """A ``sql/*.sql`` file is malformed, or statements and code do not match by name."""


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One difference between a statement and what its Python caller expects."""

    statement: str
    item: str
    expected: str
    actual: str

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
        lines = "\n".join(f"  - {p}" for p in self.problems)
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

    def __init__(self, errors: Iterable[FieldError], *, sqlstate: str | None = None) -> None:
        self.errors = tuple(errors)
        self.sqlstate = sqlstate
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
                 sqlstate: str | None) -> None:
        self.constraint = constraint
        self.table = table
        self.sqlstate = sqlstate
        super().__init__(message)


class ConflictError(_ConstraintError):
    """A unique constraint refused the row. ``field`` names the column it guards."""

    def __init__(self, message: str, *, constraint: str | None = None,
                 table: str | None = None, field: str | None = None,
                 sqlstate: str | None = "23505") -> None:
        self.field = field
        super().__init__(message, constraint=constraint, table=table, sqlstate=sqlstate)


class ForeignKeyError(_ConstraintError):
    """A referenced row does not exist, or rows still refer to the one being deleted."""

    def __init__(self, message: str, *, constraint: str | None = None,
                 table: str | None = None, sqlstate: str | None = "23503") -> None:
        super().__init__(message, constraint=constraint, table=table, sqlstate=sqlstate)


class DatabaseError(GatewayDBError):
    """The server reported an error; its diagnostics are kept on the instance."""

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None,
                 hint: str | None = None, statement: str | None = None) -> None:
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.statement = statement
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


# Constraint name -> the field it guards, where the name alone does not say it.
_CONSTRAINT_FIELDS: dict[str, str] = {
    "users_email_key": "email",
    "users_api_key_digest_key": "api_key",
    "conversions_source_external_id_key": "external_id",
    "campaigns_meta_campaign_id_key": "meta_campaign_id",
    "campaigns_google_campaign_id_key": "google_campaign_id",
    "campaigns_date_order": "end_date",
    "clips_time_order": "end_time",
}

_EXACT: dict[str, type[GatewayDBError]] = {
    "23505": ConflictError,
    "23503": ForeignKeyError,
    # ON DELETE RESTRICT reports restrict_violation on PostgreSQL 16+, 23503 before that.
    "23001": ForeignKeyError,
    "23514": InvalidInputError,
    "23502": InvalidInputError,
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
    "40": TransactionConflictError,
    "53": DatabaseUnavailableError,
    "57": DatabaseUnavailableError,
}


def _field_of(constraint: str | None, column: str | None) -> str:
    if column:
        return column
    if constraint is None:
        return "?"
    return _CONSTRAINT_FIELDS.get(constraint, constraint)


def translate_error(exc: BaseException, statement: str | None = None) -> GatewayDBError:
    """Map an asyncpg / OS exception to the gatewaydb error a caller should see.

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
        return _translate_postgres(exc, statement)
    if isinstance(exc, asyncpg.InterfaceError | OSError | ConnectionError):
        return DatabaseUnavailableError(f"database connection failed: {exc}", statement=statement)
    return DatabaseError(f"{type(exc).__name__}: {exc}", statement=statement)


def _translate_postgres(exc: asyncpg.PostgresError, statement: str | None) -> GatewayDBError:
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
        return InvalidInputError([FieldError(_field_of(constraint, column), message)],
                                 sqlstate=sqlstate)
    if cls is ConflictError:
        return ConflictError(message, constraint=constraint, table=table,
                             field=_field_of(constraint, column), sqlstate=sqlstate)
    if cls is ForeignKeyError:
        return ForeignKeyError(message, constraint=constraint, table=table, sqlstate=sqlstate)
    assert issubclass(cls, DatabaseError)
    return cls(message, sqlstate=sqlstate or None, detail=fields.get("detail"),
               hint=fields.get("hint"), statement=statement)
