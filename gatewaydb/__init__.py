"""gatewaydb: a fast, raw-SQL, query-first PostgreSQL data layer for the Gateway API.

SQL lives in ``sql/*.sql`` as named statements; :class:`Database` runs them as prepared
statements on an asyncpg pool and returns Pydantic v2 models. ``db`` is the process-wide
instance, configured from ``DATABASE_URL`` when it connects (the seed's ``import { db }``).
"""

from __future__ import annotations

from .core import errors
from .core.database import Database, DatabaseStats, Transaction
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

__all__ = [
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
    "QueryCanceledError",
    "SQLRegistryError",
    "SchemaMismatchError",
    "Settings",
    "Transaction",
    "TransactionConflictError",
    "db",
    "errors",
    "models",
]

db: Database = Database.get_instance()
