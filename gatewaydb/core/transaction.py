"""Transactions: ``Transaction`` (the API inside one), its savepoints, and the block that
opens and ends it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping, Sequence
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, cast

from pydantic import BaseModel
from typing_extensions import TypeVar

from .engine import ConnectionExecutor, PooledConnection, is_dead
from .errors import InterfaceError, translate_error
from .pool import roll_back
from .query import Call

if TYPE_CHECKING:
    from .database import Database
    from .pool import Lease
    from .pool_executor import PoolExecutor

__all__ = ["Isolation", "Transaction", "TransactionBlock", "TxT", "full_reset"]

Isolation = Literal["read_committed", "repeatable_read", "serializable"]
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("gatewaydb")


async def full_reset(conn: PooledConnection) -> bool:
    """Reset a connection a caller used raw; terminate it if that fails.

    Returns whether it worked. A failure is not raised: the caller's own outcome (a
    committed transaction, say) is what to report, and a terminated connection is replaced.
    """
    try:
        await conn.reset()
    except Exception as exc:
        log.debug("resetting a raw-used connection failed, terminating it: %r", exc)
        conn.terminate()
        return False
    except BaseException:
        conn.terminate()
        raise
    return True


class Transaction:
    """One database transaction: runs the same calls as its :class:`Database`.

    Obtained from ``async with db.transaction() as tx`` or passed to the callback of
    ``await db.transaction(fn)``. Any exception out of the block rolls everything back;
    ``async with tx.transaction():`` nests a SAVEPOINT. After the block ends, every method
    raises InterfaceError.
    """

    __slots__ = ("_executor", "_raw_used")

    def __init__(self, executor: ConnectionExecutor) -> None:
        self._executor = executor
        self._raw_used = False

    def run(self, call: Call[R]) -> Coroutine[Any, Any, R]:
        """Run a declared statement in this transaction (see :meth:`Database.run`)."""
        return self._executor.run(call)

    def iterate(self, call: Call[list[M]], *,
                chunk_size: int = 1000) -> AsyncIterator[list[M]]:
        """Stream a rows statement in this transaction (see :meth:`Database.iterate`)."""
        return self._executor.iterate(call, chunk_size=chunk_size)

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """Bulk-insert in this transaction (see :meth:`Database.copy_records`)."""
        return await self._executor.copy_records(table, columns, records,
                                                 constraints=constraints)

    def transaction(self) -> _Savepoint[Self]:
        """``async with tx.transaction():`` — a SAVEPOINT inside this transaction.

        An exception out of the inner block rolls back only what ran inside it, then
        propagates; the outer transaction stays usable. Blocks nest to any depth.
        """
        return _Savepoint(self)

    @property
    def connection(self) -> PooledConnection:
        """The transaction's raw asyncpg connection, for custom SQL inside the transaction.

        Session state changed through it (``SET``, ``LISTEN``, advisory locks) is reset
        before the connection returns to the pool.
        """
        conn = self._executor.connection
        self._raw_used = True
        return conn


TxT = TypeVar("TxT", bound=Transaction, default=Transaction)


class _Savepoint(Generic[TxT]):
    """``async with tx.transaction():``: SAVEPOINT, then RELEASE or ROLLBACK TO it."""

    __slots__ = ("_native", "_tx")

    def __init__(self, tx: TxT) -> None:
        self._tx = tx
        self._native: Any = None

    async def __aenter__(self) -> TxT:
        if self._native is not None:
            raise InterfaceError("this savepoint block is already in use")
        # asyncpg turns a transaction started inside another on one connection into a
        # SAVEPOINT, and its commit/rollback into RELEASE / ROLLBACK TO SAVEPOINT.
        conn = self._tx._executor.connection
        native = conn.transaction()
        try:
            await native.start()
        except Exception as exc:
            raise translate_error(exc, "SAVEPOINT", connection_alive=not is_dead(conn)) from exc
        self._native = native
        return self._tx

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                await self._native.commit()
            else:
                await self._native.rollback()
        except Exception as failure:
            if exc_type is None:
                conn = self._tx._executor.connection
                raise translate_error(failure, "RELEASE SAVEPOINT",
                                      connection_alive=not is_dead(conn)) from failure
            # The block's own exception is the one to report; the outer transaction, now
            # unusable, fails at its next statement or at its end.


class TransactionBlock(Generic[TxT]):
    """``async with db.transaction(...)``: acquire, BEGIN, then COMMIT or ROLLBACK.

    A BEGIN that fails because the connection was lost runs again on a fresh connection
    (nothing was written yet), within ``pool_timeout``. Everything that fails later is
    reported: a lost connection as DatabaseUnavailableError, nothing of the transaction
    written.
    """

    __slots__ = ("_db", "_executor", "_isolation", "_lease", "_native", "_observed",
                 "_readonly", "_tx")

    def __init__(self, db: Database[TxT], isolation: Isolation | None,
                 readonly: bool) -> None:
        self._db = db
        self._isolation = isolation
        self._readonly = readonly
        self._executor: PoolExecutor | None = None
        self._lease: Lease | None = None
        self._native: Any = None
        self._tx: TxT | None = None
        # Observers' handles and the start time, while observed (see core/observe.py).
        self._observed: tuple[list[object], float] | None = None

    async def __aenter__(self) -> TxT:
        if self._lease is not None or self._tx is not None:
            raise InterfaceError("this transaction block is already in use; open a new one "
                                 "with db.transaction()")
        pool_ex = self._db._pool_executor()
        observers = pool_ex.engine.observers
        if observers is None:
            return await self._begin(pool_ex)
        handles = observers.transaction_started(self._isolation, self._readonly)
        started = perf_counter()
        try:
            tx = await self._begin(pool_ex)
        except BaseException as exc:
            observers.transaction_ended(handles, perf_counter() - started, exc, failed=True)
            raise
        self._observed = handles, started
        return tx

    async def _begin(self, pool_ex: PoolExecutor) -> TxT:
        deadline: float | None = None
        while True:
            lease = await pool_ex.acquire(deadline)
            native = lease.conn.transaction(isolation=self._isolation, readonly=self._readonly)
            try:
                # asyncpg's managed block: the pool's reset of a connection whose BEGIN was
                # cancelled then rolls back without a warning on stderr.
                await native.__aenter__()
                break
            except Exception as exc:
                alive = not is_dead(lease.conn)
                await pool_ex.release(lease, clean=False)
                error = translate_error(exc, "BEGIN", connection_alive=alive)
                deadline = pool_ex.retry_deadline(error, deadline)
                if deadline is None:
                    raise error from exc
            except BaseException:
                await pool_ex.release(lease, clean=False)
                raise
        self._executor, self._lease, self._native = pool_ex, lease, native
        self._tx = tx = cast(TxT, self._db.transaction_class(
            ConnectionExecutor(pool_ex.engine, lease.conn)))
        return tx

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        observed, self._observed = self._observed, None
        if observed is None or self._executor is None:
            return await self._end(exc_type)
        observers, (handles, started) = self._executor.engine.observers, observed
        assert observers is not None
        try:
            await self._end(exc_type)
        except BaseException as failure:
            observers.transaction_ended(handles, perf_counter() - started, failure,
                                        failed=True)
            raise
        observers.transaction_ended(handles, perf_counter() - started, exc, failed=False)

    async def _end(self, exc_type: type[BaseException] | None) -> None:
        pool_ex, lease, tx = self._executor, self._lease, self._tx
        if pool_ex is None or lease is None or tx is None:
            raise InterfaceError("transaction block exited without entering")
        self._lease = None
        conn = lease.conn
        clean = False
        try:
            if exc_type is None:
                await self._native.__aexit__(None, None, None)
                clean = True
            else:
                clean = await roll_back(self._native, conn)
        except Exception as failure:
            raise translate_error(failure, "COMMIT",
                                  connection_alive=not is_dead(conn)) from failure
        finally:
            tx._executor.close()
            raw = tx._raw_used
            try:
                if clean and raw:
                    clean = await full_reset(conn)
            finally:
                # A raw-used connection goes back through asyncpg, which detaches the
                # proxy: a reference kept past the block cannot reach the next caller.
                await pool_ex.release(lease, clean=clean, detach=raw)
        if exc_type is None and not self._readonly:
            await self._db._wrote()  # read-your-writes with replicas
