"""``gatewaydb.Database``: the Gateway data API on the core's public seam.

The core :class:`~gatewaydb.core.Database` runs whatever statements it is given; this one is
given the Gateway's (``sql/`` and :mod:`.queries`) and the Gateway methods, which run them
through :meth:`run` like any service's code. A service on the Gateway schema adds its own
statements with ``sql_paths=`` and ``queries=``, next to the Gateway's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from .. import core
from . import queries as gateway_queries
from ._paths import migrations_dir, sql_dir
from .api import GatewayAPI

__all__ = ["Database", "Transaction"]


class Transaction(core.Transaction, GatewayAPI):
    """One transaction; offers every Gateway method of :class:`Database`, and ``run``."""

    __slots__ = ()


class Database(core.Database[Transaction], GatewayAPI):
    """The Gateway data service: every Gateway method, plus a service's own statements.

    Args:
        url: as for :class:`gatewaydb.core.Database` (None reads ``$DATABASE_URL``).
        sql_paths: more ``.sql`` directories, loaded after the Gateway's ``sql/``.
        queries: the declarations of those statements (modules, classes, declarations).
        replicas, max_replica_lag: read replicas, as for :class:`gatewaydb.core.Database`.
        observers: tracing and metrics, as for :class:`gatewaydb.core.Database`.
        **settings: overrides for any setting in :mod:`gatewaydb.settings`.
    """

    transaction_class = Transaction
    _instance: ClassVar[Database | None] = None

    def __init__(self, url: str | None = None, *, sql_paths: Iterable[Path | str] = (),
                 queries: Iterable[object] = (), replicas: Sequence[str] | None = None,
                 max_replica_lag: float = 5.0, observers: Iterable[core.Observer] | None = None,
                 **settings: Any) -> None:
        super().__init__(url, sql_paths=(sql_dir(), *sql_paths),
                         queries=(gateway_queries, *queries),
                         migrations_path=migrations_dir(), replicas=replicas,
                         max_replica_lag=max_replica_lag, observers=observers, **settings)

    @classmethod
    def get_instance(cls) -> Database:
        """The process-wide instance (the seed's ``DatabaseService.getInstance()``)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance
