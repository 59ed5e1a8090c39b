"""The statement behind a health report's migration state (``sql/migration_state/``).

Loaded only by a :class:`~gatewaydb.core.Database` given ``migrations_path=``: the statement
reads yoyo's ``_yoyo_migration`` table, which a service without yoyo migrations lacks, and
the contract check prepares every loaded statement.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .query import row

__all__ = ["SQL_DIR", "MigrationState", "migration_state"]

SQL_DIR = Path(__file__).resolve().parent / "sql" / "migration_state"


class MigrationState(BaseModel):
    """The server's version and the migrations yoyo has recorded as applied."""

    server_version: str
    applied_migrations: list[str]


@row(MigrationState)
def migration_state() -> None:
    """Version and applied migrations in one round trip (42P01 where yoyo has no table)."""
