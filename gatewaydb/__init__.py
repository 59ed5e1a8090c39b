"""gatewaydb: a fast, raw-SQL, query-first PostgreSQL data layer for the Gateway API.

SQL lives in ``.sql`` files as named statements; :class:`Database` runs them as prepared
statements on an asyncpg pool and returns Pydantic v2 models — the Gateway API's own, and a
service's (``sql_paths=``, ``queries=``; declared with :func:`rows`, :func:`row`,
:func:`value`, :func:`command`). ``db`` is the process-wide instance, configured from
``DATABASE_URL`` when it connects (the seed's ``import { db }``).
"""

from __future__ import annotations

from .core import Call, DatabaseStats, Query, command, errors, row, rows, value
from .core.errors import (
    ConfigurationError,
    ConflictError,
    DatabaseError,
    DatabaseUnavailableError,
    ForeignKeyError,
    GatewayDBError,
    InterfaceError,
    InvalidInputError,
    NotFoundError,
    PoolTimeoutError,
    QueryCanceledError,
    SchemaMismatchError,
    SQLRegistryError,
    TransactionConflictError,
)
from .core.settings import Settings
from .gateway import models
from .gateway.database import Database, Transaction

__all__ = [
    "Call",
    "ConfigurationError",
    "ConflictError",
    "Database",
    "DatabaseError",
    "DatabaseStats",
    "DatabaseUnavailableError",
    "ForeignKeyError",
    "GatewayDBError",
    "InterfaceError",
    "InvalidInputError",
    "NotFoundError",
    "PoolTimeoutError",
    "Query",
    "QueryCanceledError",
    "SQLRegistryError",
    "SchemaMismatchError",
    "Settings",
    "Transaction",
    "TransactionConflictError",
    "command",
    "db",
    "errors",
    "models",
    "row",
    "rows",
    "value",
]

db: Database = Database.get_instance()
