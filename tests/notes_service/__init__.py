"""A service shaped like any user of gatewaydb's core, on a schema of its own (no Gateway
table, enum or statement): ``schema.sql`` (what its migrations would create), ``sql/`` (its
statements), :mod:`.models` and :mod:`.queries` (its declarations)."""

from __future__ import annotations

from pathlib import Path

from . import models, queries

__all__ = ["SCHEMA", "SQL_DIR", "models", "queries"]

HERE = Path(__file__).resolve().parent
SQL_DIR = HERE / "sql"
#: The service's tables, as its own migrations would create them.
SCHEMA = (HERE / "schema.sql").read_text(encoding="utf-8")
