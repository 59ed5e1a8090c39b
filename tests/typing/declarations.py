# Checked by tests/test_typing.py with mypy --strict; never imported or run.
# An "R" comment is the type mypy must reveal on its line; an "E" comment the error code it
# must report there.
from __future__ import annotations

from typing import reveal_type
from uuid import UUID

from notes_service import queries
from notes_service.models import Priority

from examples.reports import queries as reports
from gatewaydb import Database, Transaction
from gatewaydb.core import Database as CoreDatabase


async def kinds(db: CoreDatabase, tx: Transaction) -> None:
    reveal_type(await db.run(queries.list_notes()))  # R: list[notes_service.models.Note]
    reveal_type(await db.run(queries.get_note(1)))  # R: notes_service.models.Note | None
    reveal_type(await db.run(queries.count_notes()))  # R: int | None
    reveal_type(await db.run(queries.delete_notes(Priority.LOW)))  # R: str
    reveal_type(await tx.run(queries.get_note(id=1)))  # R: notes_service.models.Note | None
    reveal_type(db.iterate(queries.list_notes()))  # R: typing.AsyncIterator[list[notes_service.models.Note]]


async def wrong_calls(db: CoreDatabase) -> None:
    queries.get_note("1")  # E: arg-type
    queries.get_note()  # E: call-arg
    queries.get_note(1, 2)  # E: call-arg
    queries.create_note(title=5)  # E: arg-type
    queries.list_notes(priority="LOW")  # E: arg-type
    db.iterate(queries.get_note(1))  # E: arg-type
    count: str = await db.run(queries.count_notes())  # E: arg-type
    await db.run(queries.list_notes)  # E: arg-type


async def transactions(db: Database, core: CoreDatabase, user_id: UUID) -> None:
    async with db.transaction() as tx:
        reveal_type(tx)  # R: gatewaydb.gateway.database.Transaction
        reveal_type(await tx.get_user_by_id(user_id))  # R: gatewaydb.gateway.models.User | None
        async with tx.transaction() as savepoint:
            reveal_type(savepoint)  # R: gatewaydb.gateway.database.Transaction
    async with core.transaction() as plain:
        reveal_type(plain)  # R: gatewaydb.core.transaction.Transaction
        plain.get_user_by_id(user_id)  # E: attr-defined

    async def count(tx: Transaction) -> int:
        return len(await tx.run(reports.user_summaries(take=10)))

    reveal_type(await db.transaction(count, retries=2))  # R: int
    reveal_type(await db.run(reports.ready_assets_with_best_clips(user_id)))  # R: list[examples.reports.models.AssetWithBestClips]
