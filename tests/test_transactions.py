"""Transactions: block and callback forms, rollback, isolation, and conflict retries."""

from __future__ import annotations

import anyio
import pytest

from gatewaydb import ConflictError, Database, Transaction, TransactionConflictError
from gatewaydb.core.errors import DatabaseError, InterfaceError

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def test_block_commits(db: Database) -> None:
    async with db.transaction() as tx:
        user = await tx.create_user(email="tx@example.com")
        await tx.update_user(user.id, name="Committed")
    found = await db.get_user_by_email("tx@example.com")
    assert found is not None
    assert found.name == "Committed"


async def test_an_exception_rolls_back_every_operation(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.create_user(email="one@example.com")
            await tx.create_user(email="two@example.com")
            raise Boom
    assert await db.get_user_by_email("one@example.com") is None
    assert await db.get_user_by_email("two@example.com") is None


async def test_callback_form_returns_the_result_and_rolls_back_on_error(db: Database) -> None:
    async def create(tx: Transaction) -> str:
        user = await tx.create_user(email="cb@example.com")
        return user.email

    assert await db.transaction(create) == "cb@example.com"

    async def fail(tx: Transaction) -> None:
        await tx.create_user(email="cb-fail@example.com")
        raise Boom

    with pytest.raises(Boom):
        await db.transaction(fail)
    assert await db.get_user_by_email("cb-fail@example.com") is None


async def test_a_savepoint_rolls_back_only_its_own_work(db: Database) -> None:
    async with db.transaction() as tx:
        kept = await tx.create_user(email="kept@example.com")
        with pytest.raises(ConflictError):
            async with tx.transaction():
                await tx.update_user(kept.id, name="renamed inside")
                await tx.create_user(email="kept@example.com")  # aborts only the savepoint
        assert (await tx.get_user_by_id(kept.id)).name is None  # type: ignore[union-attr]
        async with tx.transaction():
            await tx.update_user(kept.id, name="Kept")
    found = await db.get_user_by_email("kept@example.com")
    assert found is not None
    assert found.name == "Kept"


async def test_a_finished_transaction_cannot_be_used(db: Database) -> None:
    async with db.transaction() as tx:
        pass
    with pytest.raises(InterfaceError, match="transaction has ended"):
        await tx.get_user_by_email("x@example.com")
    with pytest.raises(InterfaceError, match="retries= needs the callback form"):
        db.transaction(retries=2)


async def test_readonly_refuses_writes(db: Database) -> None:
    with pytest.raises(DatabaseError) as caught:
        async with db.transaction(readonly=True) as tx:
            await tx.create_user(email="ro@example.com")
    assert caught.value.sqlstate == "25006"


async def _racing_increment(db: Database, retries: int, both_read: anyio.Event,
                            arrived: list[int]) -> None:
    """Read-modify-write of a counter in SERIALIZABLE; the first attempts overlap."""

    async def bump(tx: Transaction) -> None:
        user = await tx.get_user_by_email("race@example.com")
        assert user is not None
        arrived.append(1)
        if len(arrived) == 2:
            both_read.set()
        with anyio.move_on_after(2):  # only the first attempts wait for each other
            await both_read.wait()
        await tx.update_user(user.id, settings={"count": user.settings.get("count", 0) + 1})

    await db.transaction(bump, isolation="serializable", retries=retries)


async def test_serialization_failures_are_retried_when_asked(db: Database) -> None:
    await db.create_user(email="race@example.com", settings={"count": 0})
    both_read, arrived = anyio.Event(), []
    async with anyio.create_task_group() as tg:
        for _ in range(2):
            tg.start_soon(_racing_increment, db, 3, both_read, arrived)
    user = await db.get_user_by_email("race@example.com")
    assert user is not None
    assert user.settings["count"] == 2
    assert len(arrived) >= 3  # one of the two ran again


async def test_without_retries_the_conflict_is_raised(db: Database) -> None:
    await db.create_user(email="race@example.com", settings={"count": 0})
    both_read, arrived = anyio.Event(), []
    with pytest.raises(BaseExceptionGroup) as group:
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(_racing_increment, db, 0, both_read, arrived)
    conflict = group.value.exceptions[0]
    assert isinstance(conflict, TransactionConflictError)
    assert conflict.sqlstate == "40001"
