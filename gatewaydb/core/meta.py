"""The statements the core runs itself (``core/sql/meta.sql``): enum labels for the contract
check, the round trips of health reports, read-replica routing and the pooler probe. Every
:class:`Database` loads them; the migration state has its own statement
(:mod:`.migration_state`), loaded only for a database that names its migrations."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .query import row, rows, value

__all__ = [
    "SQL_DIR",
    "EnumLabels",
    "ReplicaStatus",
    "meta_backend_pid",
    "meta_enum_labels",
    "meta_ping",
    "meta_replica_status",
    "meta_server_version",
    "meta_wal_lsn",
]

SQL_DIR = Path(__file__).resolve().parent / "sql"


class EnumLabels(BaseModel):
    """One enum type's labels, in declared order."""

    typname: str
    labels: list[str]


@rows(EnumLabels)
def meta_enum_labels(names: list[str]) -> None:
    """The labels of the named enum types."""


@value(int)
def meta_ping() -> None:
    """The cheapest round trip."""


@value(str)
def meta_server_version() -> None:
    """The server's version string."""


class ReplicaStatus(BaseModel):
    """Whether a server still replays a primary, and how far it got (WAL bytes)."""

    in_recovery: bool
    replay_lsn: int | None


@value(int)
def meta_wal_lsn() -> None:
    """The primary's WAL insert position, in bytes (read-your-writes, replica lag)."""


@row(ReplicaStatus)
def meta_replica_status() -> None:
    """A replica's recovery state and replay position (read routing)."""


@value(int)
def meta_backend_pid() -> None:
    """The server process of this session (transaction-pooler detection)."""
