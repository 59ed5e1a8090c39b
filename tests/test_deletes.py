"""Soft and hard delete, the same for every soft-deletable entity: users, assets, clips and
campaigns.

What a delete does to other rows (cascades, attribution set to NULL, refusals by foreign
keys) and what else a soft delete hides differ by entity: those stay in each entity's module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from helpers import count_rows

from gatewaydb import Database, NotFoundError

pytestmark = pytest.mark.anyio


@dataclass(frozen=True, slots=True)
class Entity:
    """One soft-deletable entity, as the tests below need it."""

    fixture: str  # the conftest fixture that creates one row of it (and its parents)
    delete: str  # the Database method that deletes one: (id, soft=True) -> None
    get: str  # the Database method that reads one live row by id, else None
    table: str  # its table, for count_rows
    name: str  # the entity a NotFoundError names

    def deleter(self, db: Database) -> Callable[..., Awaitable[None]]:
        method: Callable[..., Awaitable[None]] = getattr(db, self.delete)
        return method

    def getter(self, db: Database) -> Callable[[UUID], Awaitable[Any]]:
        method: Callable[[UUID], Awaitable[Any]] = getattr(db, self.get)
        return method


ENTITIES = [
    pytest.param(Entity("user", "delete_user", "get_user_by_id", "users", "user"), id="user"),
    pytest.param(Entity("asset", "delete_asset", "get_asset_by_id", "assets", "asset"),
                 id="asset"),
    pytest.param(Entity("clip", "delete_clip", "get_clip_by_id", "clips", "clip"), id="clip"),
    pytest.param(Entity("campaign", "delete_campaign", "get_campaign_by_id", "campaigns",
                        "campaign"), id="campaign"),
]


@pytest.fixture(params=ENTITIES)
def entity(request: pytest.FixtureRequest) -> Entity:
    param: Entity = request.param
    return param


@pytest.fixture
def row_id(request: pytest.FixtureRequest, entity: Entity) -> UUID:
    """The id of one live row of ``entity``, made by its conftest fixture."""
    row_id: UUID = request.getfixturevalue(entity.fixture).id
    return row_id


async def test_soft_delete_hides_the_row_but_keeps_it(db: Database, entity: Entity,
                                                      row_id: UUID) -> None:
    await entity.deleter(db)(row_id)
    assert await entity.getter(db)(row_id) is None
    assert await count_rows(db, entity.table) == 1
    assert await count_rows(db, entity.table, soft_deleted=True) == 1  # only hidden


async def test_soft_delete_takes_the_id_as_a_string(db: Database, entity: Entity,
                                                    row_id: UUID) -> None:
    await entity.deleter(db)(str(row_id))
    assert await entity.getter(db)(row_id) is None


async def test_soft_delete_of_a_soft_deleted_row_is_not_found(db: Database, entity: Entity,
                                                             row_id: UUID) -> None:
    await entity.deleter(db)(row_id)
    with pytest.raises(NotFoundError) as caught:
        await entity.deleter(db)(row_id)
    assert (caught.value.entity, caught.value.key) == (entity.name, row_id)
    assert await count_rows(db, entity.table, soft_deleted=True) == 1


async def test_hard_delete_removes_the_row(db: Database, entity: Entity, row_id: UUID) -> None:
    await entity.deleter(db)(row_id, soft=False)
    assert await entity.getter(db)(row_id) is None
    assert await count_rows(db, entity.table) == 0
    with pytest.raises(NotFoundError) as caught:
        await entity.deleter(db)(row_id, soft=False)
    assert (caught.value.entity, caught.value.key) == (entity.name, row_id)


async def test_hard_delete_purges_a_soft_deleted_row(db: Database, entity: Entity,
                                                     row_id: UUID) -> None:
    await entity.deleter(db)(row_id)
    await entity.deleter(db)(row_id, soft=False)
    assert await count_rows(db, entity.table) == 0


@pytest.mark.parametrize("soft", [True, False], ids=["soft", "hard"])
async def test_delete_of_a_missing_row_is_not_found(db: Database, entity: Entity,
                                                    soft: bool) -> None:
    missing = uuid4()
    with pytest.raises(NotFoundError) as caught:
        await entity.deleter(db)(missing, soft=soft)
    assert (caught.value.entity, caught.value.key) == (entity.name, missing)
