"""A service's own queries on the Gateway schema: the seed's "Advanced Queries" and "Select
Only Needed Fields", as ``sql/reports.sql`` + :mod:`.queries` + :mod:`.models`.

::

    from gatewaydb import Database
    from examples.reports import SQL_DIR, queries

    async with Database(url, sql_paths=[SQL_DIR], queries=[queries]) as db:
        assets = await db.run(queries.ready_assets_with_best_clips(user.id, min_score=0.8))
"""

from __future__ import annotations

from pathlib import Path

from . import models, queries

__all__ = ["SQL_DIR", "models", "queries"]

SQL_DIR = Path(__file__).resolve().parent / "sql"
