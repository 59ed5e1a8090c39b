"""``PoolExecutor``: runs each call on a connection from the free list, and says what a lost
connection allows to run again.

Calls that never reached the server are not failed: the free list keeps connecting until
``pool_timeout`` while the server refuses. A statement that may have reached the server is
run again on a fresh connection only when it is a read (:func:`is_read_only`), within
``pool_timeout`` of the first attempt: a write is never applied twice. A stream starts over
only before its first chunk reached the caller.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from .engine import Engine, Executor, is_dead
from .errors import DatabaseUnavailableError, translate_error
from .observe import Endpoint
from .pool import FreeList, Lease, roll_back
from .query import Call, Query

__all__ = ["PoolExecutor", "is_read_only"]

log = logging.getLogger("gatewaydb.pool")

M = TypeVar("M", bound=BaseModel)

# Comments and quoted text (their words are not SQL), then what makes a statement a write.
_NOT_SQL = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$",
                      re.DOTALL)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|copy|call|lock|nextval|setval|set_config|pg_notify"
    r"|pg_advisory\w*|txid_current|pg_current_xact_id)\b|\bfor\s+(no\s+key\s+)?update\b"
    r"|\bfor\s+(key\s+)?share\b", re.IGNORECASE)
_READ_STARTS = {"select", "with", "values", "table"}


def is_read_only(sql: str) -> bool:
    """Whether running ``sql`` twice is as good as running it once.

    True for a SELECT (or WITH / VALUES / TABLE) that names no data-modifying command, row
    lock, sequence or advisory-lock function; False for everything else. Conservative: a
    statement that calls a function which writes must not be declared as a plain SELECT.
    """
    text = _NOT_SQL.sub(" ", sql).strip()
    first = text.split(None, 1)[0].lower() if text else ""
    return first in _READ_STARTS and _WRITES.search(text) is None


class PoolExecutor(Executor):
    """Borrows a connection from the free list for each call."""

    __slots__ = ("_reads", "_timeout", "connections", "server")

    def __init__(self, engine: Engine, pool: asyncpg.Pool,
                 server: Endpoint | None = None) -> None:
        super().__init__(engine)
        #: The server this pool connects to (None: the primary), for observers.
        self.server = server
        self.connections = FreeList(pool, engine.settings, engine.observers, server)
        self._timeout = engine.settings.pool_timeout
        self._reads = frozenset(name for name, sql in engine.sql.items() if is_read_only(sql))

    @property
    def idle_count(self) -> int:
        """Idle connections: the free list's and asyncpg's."""
        return self.connections.idle_count

    def served_by(self) -> Endpoint | None:
        return self.server

    def is_read(self, query: Query[Any, Any]) -> bool:
        """Whether ``query`` may run again after its connection was lost mid-call."""
        return query.name in self._reads

    async def acquire(self, deadline: float | None = None) -> Lease:
        """A live connection (see :meth:`FreeList.acquire`)."""
        return await self.connections.acquire(deadline)

    async def release(self, lease: Lease, *, clean: bool, detach: bool = False) -> None:
        """Give ``lease`` back (see :meth:`FreeList.release`)."""
        await self.connections.release(lease, clean=clean, detach=detach)

    async def expire_connections(self) -> None:
        """Replace every connection: idle ones now, busy ones when they come back."""
        await self.connections.expire_connections()

    async def drain(self) -> None:
        """Hand every free-listed connection back to asyncpg's pool (before closing it)."""
        await self.connections.drain()

    async def _run(self, query: Query[Any, Any], sql: str, args: Sequence[Any]) -> Any:
        method = query.returns.value
        deadline: float | None = None
        while True:
            lease = await self.acquire(deadline)
            try:
                result = await getattr(lease.conn, method)(sql, *args)
            except Exception as exc:
                alive = not is_dead(lease.conn)
                await self.release(lease, clean=False)
                error = translate_error(exc, query.name, query.constraints,
                                        connection_alive=alive)
                deadline = self._retry_deadline(query, error, deadline)
                if deadline is None:
                    raise error from exc
                log.info("%s: connection lost, running the read again: %s", query.name, exc)
                continue
            except BaseException:
                await self.release(lease, clean=False)
                raise
            if not self.connections.put_back(lease):
                await self.release(lease, clean=False)
            return result

    def _retry_deadline(self, query: Query[Any, Any], error: Exception,
                        deadline: float | None) -> float | None:
        """When a failed call may run again (a read that lost its connection), its deadline."""
        if query.name not in self._reads:
            return None
        return self.retry_deadline(error, deadline)

    def retry_deadline(self, error: Exception, deadline: float | None) -> float | None:
        """The deadline for running again an operation that lost its connection, or None.

        None when ``error`` is not a connection loss or ``pool_timeout`` has passed since the
        first attempt. Only for operations that are safe to repeat (reads, BEGIN).
        """
        if not isinstance(error, DatabaseUnavailableError):
            return None
        now = asyncio.get_running_loop().time()
        deadline = now + self._timeout if deadline is None else deadline
        return deadline if now < deadline else None

    async def _copy(self, table: str, columns: Sequence[str],
                    records: Iterable[Sequence[Any]]) -> str:
        lease = await self.acquire()
        try:
            status = await lease.conn.copy_records_to_table(table, records=records,
                                                            columns=columns)
        except asyncpg.PostgresError:
            # The server's error: copy_records translates it with the caller's constraints.
            await self.release(lease, clean=False)
            raise
        except Exception as exc:
            alive = not is_dead(lease.conn)
            await self.release(lease, clean=False)
            raise translate_error(exc, f"copy_{table}", connection_alive=alive) from exc
        except BaseException:
            await self.release(lease, clean=False)
            raise
        await self.release(lease, clean=True)
        return status

    async def _iterate(self, call: Call[list[M]], sql: str,
                       chunk_size: int) -> AsyncIterator[list[M]]:
        query = call.query
        deadline: float | None = None
        while True:
            lease = await self.acquire(deadline)
            started = clean = False
            try:
                # A read-only transaction: one snapshot for the whole stream. Entered as
                # asyncpg's managed block, so that the pool's reset never warns about it.
                native = lease.conn.transaction(readonly=True)
                await native.__aenter__()
                try:
                    async for chunk in self._stream(lease.conn, call, sql, chunk_size):
                        started = True
                        yield chunk
                except BaseException:
                    await roll_back(native, lease.conn)
                    raise
                await native.__aexit__(None, None, None)
                clean = True
                return
            except Exception as exc:
                error = translate_error(exc, query.name, query.constraints,
                                        connection_alive=not is_dead(lease.conn))
                # Nothing reached the caller yet: the stream can start over on another
                # connection, as any read can.
                deadline = None if started else self._retry_deadline(query, error, deadline)
                if deadline is None:
                    if error is exc:
                        raise
                    raise error from exc
            finally:
                await self.release(lease, clean=clean)
