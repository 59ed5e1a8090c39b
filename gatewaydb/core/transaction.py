"""Transactions: ``Transaction`` (the API inside one) and the block that opens and ends it."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from ..gateway.api import GatewayAPI
from .engine import ConnectionExecutor, Executor, PooledConnection, is_dead
from .errors import InterfaceError, translate_error
from .pool import roll_back

if TYPE_CHECKING:
    from .database import Database
    from .pool import Lease
    from .pool_executor import PoolExecutor

__all__ = ["Isolation", "Transaction", "TransactionBlock", "full_reset"]

Isolation = Literal["read_committed", "repeatable_read", "serializable"]

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


class Transaction(GatewayAPI):
    """One database transaction; offers exactly the methods of :class:`Database`.

    Obtained from ``async with db.transaction() as tx`` or passed to the callback of
    ``await db.transaction(fn)``. Any exception out of the block rolls everything back.
    After the block ends, every method raises InterfaceError.
    """

    __slots__ = ("_executor", "_raw_used")

    def __init__(self, executor: ConnectionExecutor) -> None:
        self._executor = executor
        self._raw_used = False

    @property
    def _ex(self) -> Executor:
        return self._executor

    @property
    def connection(self) -> PooledConnection:
        """The transaction's raw asyncpg connection, for custom SQL inside the transaction.

        Session state changed through it (``SET``, ``LISTEN``, advisory locks) is reset
        before the connection returns to the pool.
        """
        conn = self._executor.connection
        self._raw_used = True
        return conn


class TransactionBlock:
    """``async with db.transaction(...)``: acquire, BEGIN, then COMMIT or ROLLBACK.

    A BEGIN that fails because the connection was lost runs again on a fresh connection
    (nothing was written yet), within ``pool_timeout``. Everything that fails later is
    reported: a lost connection as DatabaseUnavailableError, nothing of the transaction
    written.
    """

    __slots__ = ("_db", "_executor", "_isolation", "_lease", "_native", "_readonly", "_tx")

    def __init__(self, db: Database, isolation: Isolation | None, readonly: bool) -> None:
        self._db = db
        self._isolation = isolation
        self._readonly = readonly
        self._executor: PoolExecutor | None = None
        self._lease: Lease | None = None
        self._native: Any = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        if self._lease is not None or self._tx is not None:
            raise InterfaceError("this transaction block is already in use; open a new one "
                                 "with db.transaction()")
        pool_ex = self._db._pool_executor()
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
        self._tx = Transaction(ConnectionExecutor(pool_ex.engine, lease.conn))
        return self._tx

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
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
