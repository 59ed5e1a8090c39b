"""Plain helpers shared by the test modules (fixtures live in ``conftest.py``).

``tests`` is not a package: pytest's default "prepend" import mode puts this folder on
``sys.path`` for the test modules beside it, so they import this module as ``helpers``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from uuid import UUID, uuid4

import pytest

from gatewaydb import Database, InvalidInputError
from gatewaydb.gateway.models import Campaign

# Test-only SQL, fixed strings: the table is looked up here, never formatted into a query.
_COUNT_SQL: dict[str, str] = {
    "users": "SELECT count(*) FROM users",
    "assets": "SELECT count(*) FROM assets",
    "clips": "SELECT count(*) FROM clips",
    "predictions": "SELECT count(*) FROM predictions",
    "campaigns": "SELECT count(*) FROM campaigns",
    "experiments": "SELECT count(*) FROM experiments",
    "conversions": "SELECT count(*) FROM conversions",
}
_COUNT_SOFT_DELETED_SQL: dict[str, str] = {
    "users": "SELECT count(*) FROM users WHERE deleted_at IS NOT NULL",
    "assets": "SELECT count(*) FROM assets WHERE deleted_at IS NOT NULL",
    "clips": "SELECT count(*) FROM clips WHERE deleted_at IS NOT NULL",
    "campaigns": "SELECT count(*) FROM campaigns WHERE deleted_at IS NOT NULL",
}


async def count_rows(db: Database, table: str, *, soft_deleted: bool = False) -> int:
    """How many rows ``table`` holds, hidden ones included (only those with ``soft_deleted``)."""
    queries = _COUNT_SOFT_DELETED_SQL if soft_deleted else _COUNT_SQL
    assert table in queries, f"no row-count query for {table!r} (soft_deleted={soft_deleted})"
    async with db.acquire() as conn:
        return int(await conn.fetchval(queries[table]))


def statements_run(db: Database) -> int:
    """How many statements ``db`` has run so far, by its own stats."""
    return sum(s.count for s in db.stats().statements.values())


async def expect_invalid(action: Awaitable[object], field: str) -> InvalidInputError:
    """Await ``action``: it must raise :class:`InvalidInputError` naming ``field``.

    Returns the error, for further checks.
    """
    with pytest.raises(InvalidInputError) as caught:
        await action
    assert field in caught.value.fields
    return caught.value


def assert_aware(*stamps: object) -> None:
    """Each of ``stamps`` is a timezone-aware datetime."""
    for stamp in stamps:
        assert isinstance(stamp, datetime)
        assert stamp.tzinfo is not None


async def add_attributed_conversion(db: Database, owner_id: UUID, clip_id: UUID) -> UUID:
    """Insert, behind the API, a campaign of ``owner_id`` and a conversion attributed to
    ``clip_id``; return the conversion's id."""
    async with db.acquire() as conn:
        campaign = await conn.fetchval(
            "INSERT INTO campaigns (user_id, name, objective, budget) "
            "VALUES ($1, 'c', 'SALES', 10) RETURNING id", owner_id)
        conversion: UUID = await conn.fetchval(
            "INSERT INTO conversions (campaign_id, source, value, attributed_clip_id, "
            "\"timestamp\") VALUES ($1, 'META', 9.99, $2, now()) RETURNING id",
            campaign, clip_id)
        return conversion


async def attributed_clip_of(db: Database, conversion_id: UUID) -> UUID | None:
    """The clip the conversion is attributed to, read behind the API."""
    async with db.acquire() as conn:
        clip_id: UUID | None = await conn.fetchval(
            "SELECT attributed_clip_id FROM conversions WHERE id = $1", conversion_id)
        return clip_id


async def no_live_campaign(db: Database, campaign: Campaign, state: str) -> UUID:
    """A campaign id that names no live campaign: an unknown one (``state`` "missing") or
    ``campaign``'s own after soft-deleting it ("soft-deleted")."""
    if state == "soft-deleted":
        await db.delete_campaign(campaign.id)
        return campaign.id
    assert state == "missing", state
    return uuid4()
