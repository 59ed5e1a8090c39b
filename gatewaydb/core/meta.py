"""The statements the core runs itself (``core/sql/meta.sql``): enum labels for the contract
check, and the round trips of health reports. Every :class:`Database` loads them; the
migration state has its own statement (:mod:`.migration_state`), loaded only for a database
that names its migrations."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .query import rows, value

__all__ = [
    "SQL_DIR",
    "EnumLabels",
    "meta_enum_labels",
    "meta_ping",
    "meta_server_version",
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
