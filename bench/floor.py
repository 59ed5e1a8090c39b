"""The floors: what a team writes with asyncpg alone, measured next to gatewaydb.

Each hot path's floor is hand-written in :mod:`bench.handwritten` — the SQL an asyncpg user would
write for the same result, independent of gatewaydb's ``sql/`` — and runs on one of two pools:

- ``floor``: ``asyncpg.create_pool(url, min_size=10, max_size=10)`` with every default: its
  statement cache, its reset on release (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
  RESET ALL``, a second round trip per pooled call) and its text codecs (json is ``str``);
- ``floor_noreset``: the same pool with ``reset=`` a no-op, so the difference between the two
  shows what gatewaydb's own pooling adds beyond skipping the reset.

A third side, ``validated``, is the default pool and the same SQL with
``Model.model_validate(dict(record))`` per row: what a team writes without gatewaydb.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Final

import asyncpg
from asyncpg import Record

__all__ = ["POOL_SIZE", "Floor"]

#: Every pool's size, and gatewaydb's ``connection_limit`` in the bench.
POOL_SIZE: Final = 10


async def _no_reset(conn: asyncpg.Connection) -> None:
    """``reset=`` for a pool that hands connections on as they are (the second floor)."""


class Floor:
    """Hand-written SQL on an asyncpg pool; build with :meth:`open`, then :meth:`close`."""

    __slots__ = ("pool",)

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, reset: bool = True) -> Floor:
        """A pool of :data:`POOL_SIZE` connections; ``reset=False``: no reset on release."""
        options: dict[str, Any] = {} if reset else {"reset": _no_reset}
        pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE,
                                         **options)
        assert pool is not None
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        return await self.pool.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Record | None:
        return await self.pool.fetchrow(sql, *args)

    async def copy(self, table: str, columns: Sequence[str],
                   records: Iterable[Sequence[Any]]) -> int:
        """One binary COPY (``Pool.copy_records_to_table``); the rows written."""
        status = await self.pool.copy_records_to_table(table, records=records, columns=columns)
        return int(status.rsplit(" ", 1)[-1])

    async def stream(self, sql: str, *args: Any, chunk_size: int) -> AsyncIterator[Record]:
        """``sql``'s rows through a server-side cursor in a read-only transaction,
        ``chunk_size`` rows per round trip (as gatewaydb's ``iter_conversions`` reads)."""
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            async for record in conn.cursor(sql, *args, prefetch=chunk_size):
                yield record
