"""The floor: gatewaydb's own SQL through a default asyncpg pool, returning plain records.

What a hand-written raw-asyncpg service would do, and so the cost gatewaydb's layer is
measured against. To keep the comparison honest:

- the statements are read at run time from gatewaydb's registry (``sql/*.sql``), so the floor
  runs exactly the text gatewaydb runs and can never drift from it;
- the pool is ``asyncpg.create_pool(url, min_size=10, max_size=10)`` with every default: its
  statement cache, its reset on release (a second round trip per call) and its text codecs
  (json comes back as ``str``, no models are built);
- the hot-path table (:mod:`bench.hotpaths`) passes the same parameters, in the statement's
  ``$n`` order, that gatewaydb's domain code passes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Final

import asyncpg
from asyncpg import Record

from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir

__all__ = ["POOL_SIZE", "Floor"]

#: The floor's pool size, and gatewaydb's ``connection_limit`` in the bench.
POOL_SIZE: Final = 10


class Floor:
    """Runs registry statements by name on a default asyncpg pool.

    Build with :meth:`open`; :meth:`close` closes the pool.
    """

    __slots__ = ("_pool", "_sql")

    def __init__(self, pool: asyncpg.Pool, registry: Registry) -> None:
        self._pool = pool
        self._sql = {name: registry[name].sql for name in registry}

    @classmethod
    async def open(cls, url: str) -> Floor:
        """A floor on a fresh default pool of :data:`POOL_SIZE` connections to ``url``."""
        pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
        assert pool is not None
        return cls(pool, Registry.load(sql_dir()))

    async def close(self) -> None:
        await self._pool.close()

    def sql(self, name: str) -> str:
        """The text of statement ``name``, exactly as gatewaydb runs it."""
        return self._sql[name]

    async def fetch(self, name: str, *args: Any) -> list[Record]:
        return await self._pool.fetch(self._sql[name], *args)

    async def fetchrow(self, name: str, *args: Any) -> Record | None:
        return await self._pool.fetchrow(self._sql[name], *args)

    async def fetchval(self, name: str, *args: Any) -> Any:
        return await self._pool.fetchval(self._sql[name], *args)

    async def execute(self, name: str, *args: Any) -> str:
        return await self._pool.execute(self._sql[name], *args)

    async def copy(self, table: str, columns: Sequence[str],
                   records: Iterable[Sequence[Any]]) -> str:
        """One binary COPY, as ``Pool.copy_records_to_table`` does it."""
        return await self._pool.copy_records_to_table(table, records=records, columns=columns)

    async def stream(self, name: str, *args: Any, chunk_size: int) -> AsyncIterator[Record]:
        """Statement ``name``'s rows through a server-side cursor in a read-only transaction,
        ``chunk_size`` rows per round trip (as gatewaydb's ``iter_conversions`` reads)."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            async for record in conn.cursor(self._sql[name], *args, prefetch=chunk_size):
                yield record
