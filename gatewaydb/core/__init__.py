"""The gatewaydb core: named SQL statements on an asyncpg pool, for any service.

The public seam a service (the Gateway API included) builds on::

    from gatewaydb.core import Database, rows

    @rows(Note)
    def list_notes(owner_id: UUID, skip: int = 0, take: int = 100) -> None: ...

    async with Database(url, sql_paths=["sql"], queries=[my_queries]) as db:
        notes = await db.run(list_notes(owner_id, take=10))

Nothing here knows the Gateway domain: its models, enums, constraint names and statements are
the Gateway API's own declarations (:mod:`gatewaydb.gateway`).
"""

from __future__ import annotations

from . import checks, errors
from .database import Database, DatabaseStats, Transaction
from .observe import (
    Endpoint,
    Observer,
    PoolSource,
    ServerPool,
    StatementEvent,
    TransactionEnd,
    TransactionStart,
    WaitEvent,
)
from .query import Call, Query, command, row, rows, value
from .reports import (
    ContractState,
    HealthReport,
    HealthStatus,
    PoolStatus,
    ServerHealth,
    ServerStatus,
)
from .routing import on_primary
from .settings import Settings

__all__ = [
    "Call",
    "ContractState",
    "Database",
    "DatabaseStats",
    "Endpoint",
    "HealthReport",
    "HealthStatus",
    "Observer",
    "PoolSource",
    "PoolStatus",
    "Query",
    "ServerHealth",
    "ServerPool",
    "ServerStatus",
    "Settings",
    "StatementEvent",
    "Transaction",
    "TransactionEnd",
    "TransactionStart",
    "WaitEvent",
    "checks",
    "command",
    "errors",
    "on_primary",
    "row",
    "rows",
    "value",
]
