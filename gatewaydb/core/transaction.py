"""Transactions: ``Transaction`` (the API inside one), its savepoints, and the block that
opens and ends it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, cast

from pydantic import BaseModel
from typing_extensions import TypeVar

from .engine import ConnectionExecutor, PooledConnection
from .errors import InterfaceError, translate_error
from .query import Call

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Isolation", "Transaction", "TransactionBlock", "TxT", "full_reset"]

Isolation = Literal["read_committed", "repeatable_read", "serializable"]
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


async def full_reset(conn: PooledConnection) -> None:
    """Put back a connection that a caller used raw; terminate it if that fails."""
    try:
        await conn.reset()
    except BaseException:
        conn.terminate()
        raise


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
        native = self._tx._executor.connection.transaction()
        try:
            await native.start()
        except Exception as exc:
            raise translate_error(exc) from exc
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
                raise translate_error(failure) from failure
            # The block's own exception is the one to report; the outer transaction, now
            # unusable, fails at its next statement or at its end.


class TransactionBlock(Generic[TxT]):
    """``async with db.transaction(...)``: acquire, BEGIN, then COMMIT or ROLLBACK."""

    __slots__ = ("_conn", "_db", "_isolation", "_native", "_readonly", "_tx")

    def __init__(self, db: Database[TxT], isolation: Isolation | None,
                 readonly: bool) -> None:
        self._db = db
        self._isolation = isolation
        self._readonly = readonly
        self._conn: PooledConnection | None = None
        self._native: Any = None
        self._tx: TxT | None = None

    async def __aenter__(self) -> TxT:
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
        self._tx = tx = cast(TxT, self._db.transaction_class(
            ConnectionExecutor(pool_ex.engine, conn)))
        return tx

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
