"""``FreeList``: pooled connections handed from caller to caller, only live ones.

asyncpg's pool opens, replaces and closes connections; gatewaydb keeps the ones it has taken
in a free list and hands them from caller to caller itself. A connection whose last call
completed normally, outside a transaction, goes to the next waiting caller (or the free list)
with no await, where asyncpg's ``Pool.release`` costs an ``asyncio.shield`` task and a loop
iteration per call (measured on API-key lookups: about half the sequential latency and
1.4-2x the 16-task throughput; README "How it works"). Everything else — a failure, a
cancellation, an open transaction, a connection a caller used raw — goes back through
asyncpg's release, which waits out cancellations, rolls back, detaches the proxy and
replaces broken connections.

The free list owes what asyncpg's release path does (``PoolConnectionHolder.release``):

- a connection closed while idle (a server restart, ``pg_terminate_backend``, a proxy cut) is
  never handed out: asyncpg has already detached it and taken its slot back;
- one idle longer than ``idle_timeout`` is closed (down to ``min_connections``);
- one that ran ``max_queries`` calls is replaced;
- :meth:`FreeList.expire_connections` closes the idle ones now and the busy ones when
  they come back.

While connecting fails (refused, ``CannotConnectNowError`` during a restart), ``acquire``
keeps trying until its deadline (``pool_timeout``); what a failed call may retry is
:mod:`gatewaydb.core.pool_executor`'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from time import perf_counter
from typing import Any

import anyio
import asyncpg

from .engine import PooledConnection, is_dead
from .errors import (
    DatabaseUnavailableError,
    PoolTimeoutError,
    is_connection_loss,
    translate_error,
)
from .observe import Endpoint, Observers, WaitOutcome
from .settings import Settings

__all__ = ["FreeList", "Lease", "roll_back"]

log = logging.getLogger("gatewaydb.pool")
# Backoff between attempts to connect while the server refuses: short, since a restart
# typically takes well under a second, and jittered so waiting callers do not stampede.
_FIRST_BACKOFF = 0.02
_MAX_BACKOFF = 0.25
# Seconds a rollback may take before its connection is terminated instead.
_ROLLBACK_TIMEOUT = 5.0


async def roll_back(native: Any, conn: PooledConnection) -> bool:
    """End an asyncpg transaction started with ``__aenter__`` by rolling back.

    Shielded, so that a cancelled caller still ends its transaction on the server rather
    than leaving it to the pool (whose reset would warn on stderr); bounded, so that a
    connection that stopped answering cannot hold the caller. A live connection that could
    not roll back is terminated, never reused (the server then ends the transaction).
    Returns whether the rollback worked; a failure is not raised: the caller's own exception
    is the one to report.
    """
    with anyio.CancelScope(shield=True), anyio.move_on_after(_ROLLBACK_TIMEOUT):
        try:
            # asyncpg's managed exit: any exception type means ROLLBACK.
            await native.__aexit__(Exception, None, None)
        except Exception as exc:
            log.debug("rollback failed: %r", exc)
        else:
            return True
    if not is_dead(conn):
        conn.terminate()
    return False


def _ignore_result(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("closing a retired connection failed: %r", task.exception())


class Lease:
    """A connection taken from asyncpg's pool, with what the free list needs to know."""

    __slots__ = ("conn", "generation", "idle_since", "uses")

    def __init__(self, conn: PooledConnection, generation: int) -> None:
        self.conn = conn
        self.generation = generation
        self.uses = 0
        self.idle_since = 0.0


class FreeList:
    """The connections taken from asyncpg's pool, handed from caller to caller.

    ``_taken`` counts connections taken from asyncpg and not given back; it never exceeds
    the pool's size, so asyncpg never makes a caller wait: callers wait here, first come
    first served, for a connection or for room to take a new one.
    """

    __slots__ = ("_closing", "_generation", "_idle", "_idle_timeout", "_max", "_max_queries",
                 "_min", "_observers", "_pool", "_server", "_sweeper", "_taken", "_timeout",
                 "_waiters")

    def __init__(self, pool: asyncpg.Pool, settings: Settings,
                 observers: Observers | None = None, server: Endpoint | None = None) -> None:
        self._pool = pool
        # Told how long each acquire waited (None: nobody listens, nothing is timed).
        self._observers = observers
        self._server = server
        self._timeout = settings.pool_timeout
        self._idle_timeout = settings.idle_timeout
        self._max_queries = settings.max_queries
        self._max = pool.get_max_size()
        self._min = pool.get_min_size()
        self._idle: list[Lease] = []  # a stack: the most recently used on top
        # Each waiter's future gets a lease, or None: "room to take one from asyncpg",
        # already counted in _taken on the waiter's behalf.
        self._waiters: deque[asyncio.Future[Lease | None]] = deque()
        self._taken = 0
        self._generation = 0
        self._sweeper: asyncio.TimerHandle | None = None
        self._closing = False

    @property
    def idle_count(self) -> int:
        """Idle connections: the free list's and asyncpg's."""
        return len(self._idle) + self._pool.get_idle_size()

    @property
    def waiting(self) -> int:
        """Callers waiting for a connection (or for room to open one)."""
        return sum(not w.done() for w in self._waiters)

    # -- acquire -------------------------------------------------------------------------

    async def acquire(self, deadline: float | None = None) -> Lease:
        """A live pooled connection, as a lease to give back with :meth:`release`.

        Waits (first come, first served) until ``deadline`` (loop time; default
        ``pool_timeout`` from now), connecting again while the server refuses.

        Raises:
            PoolTimeoutError: every connection stayed busy until the deadline.
            DatabaseUnavailableError: connecting kept failing until the deadline.
        """
        idle = self._idle
        while idle:
            lease = idle.pop()
            if not is_dead(lease.conn):
                if self._observers is not None:
                    self._observers.connection_wait(self._server, 0.0, "ok")
                return lease
            self._discard(lease)
        if self._observers is None:
            return await self._acquire_slow(deadline)
        return await self._acquire_observed(deadline, self._observers)

    async def _acquire_observed(self, deadline: float | None, observers: Observers) -> Lease:
        started = perf_counter()
        try:
            lease = await self._acquire_slow(deadline)
        except BaseException as exc:
            outcome: WaitOutcome = (
                "cancelled" if isinstance(exc, asyncio.CancelledError)
                else "timeout" if isinstance(exc, PoolTimeoutError) else "unavailable")
            observers.connection_wait(self._server, perf_counter() - started, outcome)
            raise
        observers.connection_wait(self._server, perf_counter() - started, "ok")
        return lease

    async def _acquire_slow(self, deadline: float | None) -> Lease:
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + self._timeout
        failure: Exception | None = None
        backoff = _FIRST_BACKOFF
        try:
            # asyncio.timeout, not asyncpg's acquire(timeout=): that is wait_for, a task.
            async with asyncio.timeout_at(deadline):
                while True:
                    if self._taken < self._max and not self._waiters:
                        self._taken += 1
                    else:
                        handed = await self._wait()
                        if handed is not None:
                            if not is_dead(handed.conn):
                                return handed
                            self._discard(handed)
                            continue
                    try:
                        return await self._take()
                    except Exception as exc:
                        if not is_connection_loss(exc):
                            raise translate_error(exc) from exc
                        failure = exc
                    await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        except TimeoutError:
            if failure is not None:
                raise DatabaseUnavailableError(
                    f"cannot connect to the database within pool_timeout={self._timeout:g}s: "
                    f"{failure or type(failure).__name__}") from failure
            raise PoolTimeoutError(
                f"no free connection within pool_timeout={self._timeout:g}s "
                f"(connection_limit={self._max})") from None

    async def _take(self) -> Lease:
        """A connection from asyncpg, the room for it already counted in ``_taken``.

        Opening one runs in a task of its own that the caller's cancellation does not stop:
        a connection half-opened for a caller that gave up goes to the next caller instead
        of being thrown away (and asyncpg, cancelled during its SSL negotiation, would leave
        an unretrieved future behind).
        """
        task = asyncio.get_running_loop().create_task(self._open())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done() or task.cancelled():
                task.add_done_callback(self._adopt)
                raise
            self._adopt(task)
            raise
        except BaseException:
            self._gone()
            raise

    async def _open(self) -> Lease:
        return Lease(await self._pool.acquire(), self._generation)

    def _adopt(self, task: asyncio.Task[Lease]) -> None:
        """The connection opened for a caller that gave up: for the next one."""
        if task.cancelled() or task.exception() is not None:
            self._gone()
        elif self._closing:
            self._gone()
            task.result().conn.terminate()
        else:
            self._put(task.result())

    async def _wait(self) -> Lease | None:
        waiter: asyncio.Future[Lease | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection (or room) just as we gave up: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._gone()
                else:
                    self._put(handed)
            else:
                waiter.cancel()
            raise

    # -- release -------------------------------------------------------------------------

    def _put(self, lease: Lease) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(lease)
                return
        lease.idle_since = asyncio.get_running_loop().time()
        self._idle.append(lease)
        if self._sweeper is None:
            self._arm_sweeper()

    def _gone(self) -> None:
        """One connection fewer taken from asyncpg: give its room to the next waiter."""
        self._taken -= 1
        while self._waiters and self._taken < self._max:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._taken += 1
                waiter.set_result(None)
                return

    def _discard(self, lease: Lease) -> None:
        """Forget a dead connection; asyncpg has its slot back (or gets it now)."""
        # Finishes asyncpg's cleanup if the protocol aborted; a detached proxy refuses,
        # as asyncpg's cleanup already ran when the connection closed.
        with contextlib.suppress(asyncpg.InterfaceError):
            lease.conn.terminate()
        self._gone()

    def _retire(self, lease: Lease) -> None:
        """Close a healthy connection in the background (expired, or used up)."""
        task = asyncio.get_running_loop().create_task(lease.conn.close(timeout=5))
        task.add_done_callback(_ignore_result)
        task.add_done_callback(lambda _: self._gone())

    def put_back(self, lease: Lease) -> bool:
        """Keep ``lease`` for the next caller when its last operation completed normally.

        Returns False when it must go through :meth:`release` instead (closed, in a
        transaction, from an expired generation; a used-up one is retired here).
        """
        conn = lease.conn
        if is_dead(conn) or conn.is_in_transaction() or lease.generation != self._generation:
            return False
        lease.uses += 1
        if lease.uses >= self._max_queries:
            self._retire(lease)
        else:
            self._put(lease)
        return True

    async def release(self, lease: Lease, *, clean: bool, detach: bool = False) -> None:
        """Give ``lease`` back.

        Args:
            clean: its last operation completed normally (it may go to the next caller).
            detach: a caller held the raw connection: return it through asyncpg, which
                detaches the proxy, so a reference kept past the block fails instead of
                reaching the next caller's connection.
        """
        if clean and not detach and self.put_back(lease):
            return
        try:
            await self._pool.release(lease.conn)
        except Exception as exc:
            # asyncpg terminated the connection (its reset failed); the caller's own outcome
            # is what to report.
            log.debug("releasing a connection failed: %r", exc)
        finally:
            self._gone()

    # -- upkeep --------------------------------------------------------------------------

    def _arm_sweeper(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(max(self._idle_timeout / 4, 0.05), self._sweep)

    def _sweep(self) -> None:
        """Close connections idle longer than ``idle_timeout``, keeping ``min_connections``."""
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        kept: list[Lease] = []
        live = self._pool.get_size()
        for lease in self._idle:  # oldest first
            if is_dead(lease.conn):
                self._discard(lease)
                live -= 1
            elif now - lease.idle_since >= self._idle_timeout and live > self._min:
                self._retire(lease)
                live -= 1
            else:
                kept.append(lease)
        self._idle[:] = kept
        if kept:
            self._arm_sweeper()

    async def expire_connections(self) -> None:
        """Replace every connection: idle ones now, busy ones when they come back."""
        self._generation += 1
        await self._pool.expire_connections()
        idle, self._idle = self._idle, []
        for lease in idle:
            self._retire(lease)

    async def drain(self) -> None:
        """Hand every free-listed connection back to asyncpg's pool (before closing it)."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        idle, self._idle = self._idle, []
        for lease in idle:
            await self.release(lease, clean=False)
