"""Transactions: ``Transaction`` (the API inside one) and the block that opens and ends it."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from ..gateway.api import GatewayAPI
from .engine import ConnectionExecutor, Executor, PooledConnection
from .errors import InterfaceError, translate_error

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Isolation", "Transaction", "TransactionBlock", "full_reset"]

Isolation = Literal["read_committed", "repeatable_read", "serializable"]


async def full_reset(conn: PooledConnection) -> None:
    """Put back a connection that a caller used raw; terminate it if that fails."""
    try:
        await conn.reset()
    except BaseException:
        conn.terminate()
        raise


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
    """``async with db.transaction(...)``: acquire, BEGIN, then COMMIT or ROLLBACK."""

    __slots__ = ("_conn", "_db", "_isolation", "_native", "_readonly", "_tx")

    def __init__(self, db: Database, isolation: Isolation | None, readonly: bool) -> None:
        self._db = db
        self._isolation = isolation
        self._readonly = readonly
        self._conn: PooledConnection | None = None
        self._native: Any = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        if self._conn is not None:
            raise InterfaceError("this transaction block is already in use")
        pool_ex = self._db._pool_executor()
        conn = await pool_ex.acquire()
        try:
            native = conn.transaction(isolation=self._isolation, readonly=self._readonly)
            await native.start()
        except BaseException as exc:
            await self._db._release(conn, clean=False)
            if isinstance(exc, Exception):
                raise translate_error(exc) from exc
            raise
        self._conn, self._native = conn, native
        self._tx = Transaction(ConnectionExecutor(pool_ex.engine, conn))
        return self._tx

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, tx = self._conn, self._tx
        if conn is None or tx is None:
            raise InterfaceError("transaction block exited without entering")
        clean = False
        try:
            if exc_type is None:
                await self._native.commit()
            else:
                await self._native.rollback()
            clean = True
        except Exception as failure:
            if exc_type is None:
                raise translate_error(failure) from failure
            # The block's own exception is the one to report; the rollback failing means
            # the connection is broken, and the pool will replace it.
        finally:
            tx._executor.close()
            try:
                if clean and tx._raw_used:
                    clean = False
                    await full_reset(conn)
                    clean = True
            finally:
                await self._db._release(conn, clean=clean)
