"""``gatewaydb.Database``: the Gateway data API on the core's public seam.

The core :class:`~gatewaydb.core.Database` runs whatever statements it is given; this one is
given the Gateway's (``sql/`` and :mod:`.queries`) and the Gateway methods, which run them
through :meth:`run` like any service's code. A service on the Gateway schema adds its own
statements with ``sql_paths=`` and ``queries=``, next to the Gateway's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from .. import core
from ..core.errors import DatabaseError, FieldError, InvalidInputError
from . import queries as gateway_queries
from ._checks import check_copy
from ._paths import migrations_dir, sql_dir
from .api import GatewayAPI

__all__ = ["Database", "Transaction"]


async def _checked_copy(copy: Callable[..., Awaitable[int]], table: str, columns: Sequence[str],
                        records: Iterable[Sequence[Any]],
                        constraints: Mapping[str, str] | None) -> int:
    """``copy(...)`` (the core's ``copy_records``) on arguments :func:`check_copy` passed."""
    rows = check_copy(table, columns, records, constraints)
    try:
        return await copy(table, columns, rows, constraints=constraints)
    except DatabaseError as exc:
        if type(exc) is not DatabaseError:
            raise
        cause, sqlstate = exc.__cause__, exc.sqlstate
        if sqlstate in _NO_SUCH:
            refusal = FieldError(*_NO_SUCH[sqlstate])
        elif sqlstate is None and isinstance(cause, ValueError | TypeError):
            # asyncpg's COPY encoder raises ValueError/TypeError quoting the value it could
            # not encode (the core wraps it as it is): the caller's data, so said without it.
            refusal = FieldError("records", "holds a value its column's type cannot store "
                                            f"({type(cause).__name__})")
        else:
            raise
    # Raised out here, not in the handler: nothing chained to it holds a value. Nothing was
    # written (the COPY did not start, or was aborted).
    raise InvalidInputError([refusal], sqlstate=sqlstate)


# The server's answer to a COPY into a table or column that does not exist: the arguments'.
_NO_SUCH = {"42P01": ("table", "no such table"),
            "42703": ("columns", "names a column the table does not have")}


class Transaction(core.Transaction, GatewayAPI):
    """One transaction; offers every Gateway method of :class:`Database`, and ``run``."""

    __slots__ = ()

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """:meth:`Database.copy_records` in this transaction."""
        return await _checked_copy(super().copy_records, table, columns, records, constraints)


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

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """Bulk-insert ``records`` into ``table`` with one binary COPY; all rows or none.

        As :meth:`gatewaydb.core.Database.copy_records`, with the arguments checked before any
        SQL runs (:func:`._checks.check_copy`; the records are read into a list for that):
        a malformed table or column name, a row of the wrong length or a string PostgreSQL
        text cannot hold raises InvalidInputError naming the argument. What only the server
        or the driver can tell is InvalidInputError too, with nothing written: a table or
        column that does not exist (``table``, ``columns``; the SQLSTATE kept) and a value
        the driver cannot encode for its column's type (``"abc"`` for a uuid: ``records``,
        without the value).
        """
        return await _checked_copy(super().copy_records, table, columns, records, constraints)

    @classmethod
    def get_instance(cls) -> Database:
        """The process-wide instance (the seed's ``DatabaseService.getInstance()``)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance
