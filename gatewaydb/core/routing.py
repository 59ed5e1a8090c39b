"""Read replicas: read-only calls outside transactions go to a usable replica.

:class:`Router` holds one :class:`Server` (its own asyncpg pool and
:class:`~gatewaydb.core.engine.PoolExecutor`) per server; :class:`RoutingExecutor` is the
executor :class:`~gatewaydb.Database` uses for its own calls when replicas are configured.
Transactions, ``acquire()`` and every statement that writes use the primary.

Read-your-writes, by WAL position: after each write through the database, the task records
the primary's WAL insert position (``meta_wal_lsn``, one round trip on the primary per
write). A replica serves that task's reads only once it has replayed past that position, as
last polled (``meta_replica_status``, every :data:`POLL_INTERVAL` seconds); until then the
reads go to the primary. The position lives in a context variable, so it follows the task and
the tasks it creates afterwards, and costs a read nothing. The poll also samples the
primary's position, and a replica's lag is the age of the oldest sampled position it has not
replayed: one further behind than ``max_replica_lag`` seconds, or not answering, takes no
reads until it recovers. A read that fails on a replica for a connection reason is run
again on the next replica, then the primary.

Whether a statement only reads is derived once, from its SQL, by the same rule that lets
the pool run a read again (:func:`gatewaydb.core.pool_executor.is_read_only`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import asyncpg
from pydantic import BaseModel

from . import meta
from .engine import Executor
from .errors import ConfigurationError, PoolTimeoutError, is_connection_loss
from .observe import Endpoint, unobserved
from .pool_executor import PoolExecutor, is_read_only
from .query import Call, Query
from .reports import HealthReport, HealthStatus, PoolStatus, ServerHealth, ServerStatus

__all__ = ["POLL_INTERVAL", "REPLICA_URLS_ENV", "Router", "RoutingExecutor", "Server",
           "on_primary", "pool_status", "replica_urls_from_env"]

log = logging.getLogger("gatewaydb.routing")
T = TypeVar("T")
Q = TypeVar("Q", bound=Query[Any, Any])
M = TypeVar("M", bound=BaseModel)

#: Seconds between two looks at each replica's replay position and lag.
POLL_INTERVAL = 0.1
State = Literal["up", "lagging", "down", "not a standby"]

_PRIMARY_READS: set[str] = set()


#: Comma-separated replica URLs for a Database built without a URL (``gatewaydb.db``).
REPLICA_URLS_ENV = "DATABASE_REPLICA_URLS"


def replica_urls_from_env() -> list[str]:
    """The URLs in ``$DATABASE_REPLICA_URLS`` (comma-separated; empty when unset)."""
    return [u.strip() for u in os.environ.get(REPLICA_URLS_ENV, "").split(",") if u.strip()]


def on_primary(query: Q) -> Q:
    """Mark a read that guards a write (an existence check before a COPY, say): it must see
    the primary's current data, so it never goes to a replica. Returns ``query``."""
    _PRIMARY_READS.add(query.name)
    return query


@dataclass(eq=False, slots=True)
class Server:
    """One server's pool and what the router knows about it."""

    name: str
    role: Literal["primary", "replica"]
    dsn: str
    pool: asyncpg.Pool
    executor: PoolExecutor
    state: State = "up"
    lag: float | None = None
    replay_lsn: int | None = None
    reads: int = 0
    retried: int = 0
    error: str | None = None


def pool_status(pool: asyncpg.Pool, executor: PoolExecutor) -> PoolStatus:
    """A pool's size and use, counting the executor's free list as idle."""
    size = pool.get_size()
    idle = executor.idle_count
    return PoolStatus(size=size, in_use=size - idle, idle=idle, max_size=pool.get_max_size(),
                      waiting=executor.connections.waiting)


def _connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the server could not serve (so another one may)."""
    if is_connection_loss(exc) or isinstance(exc, PoolTimeoutError | TimeoutError |
                                             asyncpg.InterfaceError):
        return True
    # The executors raise gatewaydb errors that keep the server's SQLSTATE.
    code = getattr(exc, "sqlstate", None) or ""
    # 08 connection, 53 resources, 57P0x shutdown / recovery, 25006 "read-only" (a read
    # that writes after all), 40001 cancelled by recovery conflict on the standby.
    return code[:2] in {"08", "53"} or code in {"57P01", "57P02", "57P03", "25006", "40001"}


@dataclass(eq=False)
class Router:
    """Which server runs each call; polls the replicas in the background."""

    primary: Server
    replicas: list[Server]
    max_lag: float
    sql: dict[str, str]
    _rotation: Iterator[int] = field(default_factory=itertools.count)
    _poller: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if not self.max_lag > 0:
            raise ConfigurationError(f"max_replica_lag must be > 0 seconds, got {self.max_lag}")
        self._read_only = {name: is_read_only(text) and name not in _PRIMARY_READS
                           for name, text in self.sql.items()}
        # One variable per Router: two databases never share a task's write position.
        self._written: ContextVar[int | None] = ContextVar(f"gatewaydb_wal_{id(self)}",
                                                           default=None)
        self._pinned: ContextVar[bool] = ContextVar(f"gatewaydb_pin_{id(self)}",
                                                    default=False)
        # (loop time, primary WAL position) samples, oldest first: see _poll_all.
        self._history: deque[tuple[float, int]] = deque()
        #: The server that ran the last call to end: set with no await before the caller
        #: reads it (RoutingExecutor.served_by), so no other task can change it in between.
        self.served: Server = self.primary

    @classmethod
    async def open(cls, primary: Server, urls: Sequence[str], max_lag: float,
                   make_pool: Callable[[str], Awaitable[tuple[str, asyncpg.Pool]]]) -> Router:
        """Open a pool per replica URL (``make_pool`` returns its public DSN and pool), look
        at each replica once and start polling. Replicas share the primary's engine, so
        ``stats()`` counts each statement once, wherever it ran."""
        replicas: list[Server] = []
        try:
            for number, url in enumerate(urls, 1):
                dsn, pool = await make_pool(url)
                name = f"replica{number}"
                replicas.append(Server(name, "replica", dsn, pool, PoolExecutor(
                    primary.executor.engine, pool, Endpoint.from_dsn(name, dsn))))
            router = cls(primary, replicas, max_lag, primary.executor.engine.sql)
            await router.start()
        except BaseException:
            for replica in replicas:
                replica.pool.terminate()
            raise
        return router

    @property
    def servers(self) -> list[Server]:
        """The primary, then the replicas."""
        return [self.primary, *self.replicas]

    def status(self) -> list[ServerStatus]:
        """Every server as :meth:`Database.health` and :meth:`Database.stats` report it."""
        return [ServerStatus(name=s.name, role=s.role, dsn=s.dsn, state=s.state,
                             lag_seconds=s.lag, reads=s.reads, retried=s.retried,
                             pool=pool_status(s.pool, s.executor), error=s.error)
                for s in self.servers]

    def add_to(self, report: HealthReport) -> HealthReport:
        """``report`` (the primary's) with a row per replica; a replica that is not ``up``
        makes a healthy report degraded, with the reason."""
        replicas = [ServerHealth(role="replica", address=r.dsn, reachable=r.state != "down",
                                 server_version=None, latency_ms=None, error=r.error,
                                 state=r.state, replay_lag_s=r.lag) for r in self.replicas]
        primary = [s.model_copy(update={"state": "up"}) if s.reachable else s
                   for s in report.servers]
        reasons = [f"{r.name} {r.state}: {r.error}" for r in self.replicas if r.state != "up"]
        status = report.status
        if reasons and status is HealthStatus.HEALTHY:
            status = HealthStatus.DEGRADED
        return report.model_copy(update={"servers": primary + replicas, "status": status,
                                          "reasons": report.reasons + reasons})

    async def start(self) -> None:
        """Look at every replica once, then keep looking in a background task."""
        # The polls are the router's own business, not the service's calls: no observer
        # sees them (the stats still count them). The task inherits the setting.
        with unobserved():
            await self._poll_all()
            self._poller = asyncio.create_task(self._poll_forever(),
                                               name="gatewaydb-replicas")

    async def close(self) -> None:
        """Stop polling and close the replicas' pools (the primary's belongs to Database)."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        for replica in self.replicas:
            await replica.executor.drain()
            await replica.pool.close()

    async def expire_connections(self) -> None:
        """Replace every replica connection (the primary's belongs to Database)."""
        for replica in self.replicas:
            await replica.executor.expire_connections()

    def terminate(self) -> None:
        """Stop polling and drop the replicas' connections at once."""
        if self._poller is not None:
            self._poller.cancel()
        for replica in self.replicas:
            replica.pool.terminate()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            await self._poll_all()

    async def _poll_all(self) -> None:
        """Sample the primary's WAL position, then every replica's replay position.

        A replica's lag is the age of the oldest sampled primary position it has not
        replayed yet (0 when it has replayed the newest): accurate to one poll interval,
        and an idle primary never makes a replica look behind.
        """
        try:
            position = await self.primary.executor.run(meta.meta_wal_lsn())
        except Exception:  # the primary's own trouble shows in health(); keep the history
            position = None
        now = asyncio.get_running_loop().time()
        if position is not None:
            self._history.append((now, position))
        await asyncio.gather(*(self._poll(r, now) for r in self.replicas))
        # Samples every replica has replayed past can never be the oldest missing one.
        behind = min((r.replay_lsn or 0 for r in self.replicas), default=0)
        while len(self._history) > 1 and self._history[1][1] <= behind:
            self._history.popleft()
        # Nor, for a replica down or far behind, samples much older than max_lag: its lag
        # then reads as at most that span, still "lagging". Bounds the history's memory.
        while len(self._history) > 1 and self._history[0][0] < now - 4 * self.max_lag:
            self._history.popleft()

    def _lag(self, replay_lsn: int, now: float) -> float:
        for sampled_at, position in self._history:
            if position > replay_lsn:
                return max(0.0, now - sampled_at)
        return 0.0

    async def _poll(self, replica: Server, now: float) -> None:
        try:
            status = await replica.executor.run(meta.meta_replica_status())
        except Exception as exc:  # any failure: not usable until it answers again
            self._set_state(replica, "down", str(exc).splitlines()[0] if str(exc) else
                            type(exc).__name__)
            return
        assert status is not None
        replica.replay_lsn = status.replay_lsn
        if not status.in_recovery or status.replay_lsn is None:
            replica.lag = None
            self._set_state(replica, "not a standby", "promoted: no longer replays the primary")
            return
        replica.lag = round(self._lag(status.replay_lsn, now), 3)
        if replica.lag > self.max_lag:
            self._set_state(replica, "lagging", f"{replica.lag}s behind (max {self.max_lag}s)")
        else:
            self._set_state(replica, "up", None)

    @staticmethod
    def _set_state(replica: Server, state: State, error: str | None) -> None:
        if replica.state != state:
            log.log(logging.INFO if state == "up" else logging.WARNING,
                    "replica %s: %s -> %s%s", replica.name, replica.state, state,
                    f" ({error})" if error else "")
        replica.state, replica.error = state, error

    # -- decisions -----------------------------------------------------------------------

    def is_read_only(self, query: Query[Any, Any]) -> bool:
        """Whether ``query`` only reads (and is not marked :func:`on_primary`)."""
        return self._read_only.get(query.name, False)

    def routes(self, query: Query[Any, Any]) -> bool:
        """Whether ``query`` may go to a replica in the current task."""
        return self.is_read_only(query) and not self._pinned.get()

    def readers(self) -> list[Server]:
        """Servers to try for a read, in order: usable replicas (rotated), then the primary."""
        needed = self._written.get()
        usable = [r for r in self.replicas if r.state == "up" and (
            needed is None or (r.replay_lsn is not None and r.replay_lsn >= needed))]
        if len(usable) > 1:
            start = next(self._rotation) % len(usable)
            usable = usable[start:] + usable[:start]
        return [*usable, self.primary]

    async def wrote(self) -> None:
        """Record, for this task, the primary's WAL position after a write it made."""
        position = await self.primary.executor.run(meta.meta_wal_lsn())
        if position is not None and position > (self._written.get() or -1):
            self._written.set(position)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Every call in the block, in this task, goes to the primary."""
        token = self._pinned.set(True)
        try:
            yield
        finally:
            self._pinned.reset(token)

    async def read(self, run: Callable[[PoolExecutor], Awaitable[T]]) -> T:
        """``run`` on the first reader that serves it; connection failures move on."""
        *replicas, primary = self.readers()
        for replica in replicas:
            try:
                result = await run(replica.executor)
            except Exception as exc:
                if not _connection_failure(exc):
                    self.served = replica
                    raise
                replica.retried += 1
                self._set_state(replica, "down", str(exc).splitlines()[0] if str(exc)
                                else type(exc).__name__)
                continue
            replica.reads += 1
            self.served = replica
            return result
        try:
            result = await run(primary.executor)
        finally:
            self.served = primary
        primary.reads += 1
        return result


class RoutingExecutor(Executor):
    """The executor of a database with replicas: reads routed, writes to the primary.

    It calls the servers' executors below their ``run``: stats, logs and row mapping happen
    once, here, wherever the statement ran.
    """

    __slots__ = ("_router",)

    def __init__(self, router: Router) -> None:
        super().__init__(router.primary.executor.engine)
        self._router = router

    def served_by(self) -> Endpoint | None:
        return self._router.served.executor.server

    async def _run(self, query: Query[Any, Any], sql: str, args: Sequence[Any]) -> Any:
        router = self._router
        if router.routes(query):
            return await router.read(lambda ex: ex._run(query, sql, args))
        try:
            result = await router.primary.executor._run(query, sql, args)
            if router.is_read_only(query):
                router.primary.reads += 1  # pinned by db.primary()
            else:
                await router.wrote()
        finally:
            router.served = router.primary
        return result

    async def _copy(self, table: str, columns: Sequence[str],
                    records: Iterable[Sequence[Any]]) -> str:
        try:
            status = await self._router.primary.executor._copy(table, columns, records)
            await self._router.wrote()
        finally:
            self._router.served = self._router.primary
        return status

    async def _iterate(self, call: Call[list[M]], sql: str,
                       chunk_size: int) -> AsyncIterator[list[M]]:
        router = self._router
        servers = router.readers() if router.routes(call.query) else [router.primary]
        for server in servers:
            stream = server.executor._iterate(call, sql, chunk_size)
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                server.reads += 1
                return
            except Exception as exc:
                # Only before the first chunk: after it, the caller has rows of this server.
                if server is servers[-1] or not _connection_failure(exc):
                    raise
                server.retried += 1
                continue
            server.reads += 1
            yield first
            async for chunk in stream:
                yield chunk
            return
