"""The contract check catches schema drift at connect and through check()."""

from __future__ import annotations

import asyncpg
import pytest

from gatewaydb import Database, SchemaMismatchError

pytestmark = pytest.mark.anyio


async def _alter(database_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _problems(database_url: str) -> list[str]:
    with pytest.raises(SchemaMismatchError) as caught:
        await Database(database_url).connect()
    return [str(p) for p in caught.value.problems]


async def test_a_migrated_database_passes(database_url: str) -> None:
    async with Database(database_url) as db:
        await db.check()


async def test_dropped_column_is_caught(database_url: str) -> None:
    await _alter(database_url, "ALTER TABLE users DROP COLUMN name")
    problems = await _problems(database_url)
    assert any(p.startswith("get_user_by_id: statement: expected prepares") and "name" in p
               for p in problems)


async def test_renamed_column_is_caught(database_url: str) -> None:
    await _alter(database_url, "ALTER TABLE users RENAME COLUMN settings TO preferences")
    problems = await _problems(database_url)
    assert any(p.startswith("list_users: statement") and "settings" in p for p in problems)


async def test_type_change_is_caught_with_expected_and_actual(database_url: str) -> None:
    await _alter(database_url, "ALTER TABLE users ALTER COLUMN name TYPE integer USING NULL")
    problems = await _problems(database_url)
    assert "get_user_by_id: column name: expected str | None, got int4" in problems


async def test_enum_labels_are_compared(database_url: str) -> None:
    await _alter(database_url, "ALTER TYPE user_role ADD VALUE 'GUEST'")
    problems = await _problems(database_url)
    assert "enum user_role: labels: expected USER, ADMIN, ENTERPRISE, got USER, ADMIN, " \
           "ENTERPRISE, GUEST" in problems


async def test_every_problem_is_listed_at_once(database_url: str) -> None:
    await _alter(database_url, "ALTER TABLE users ALTER COLUMN name TYPE integer USING NULL",
                 "ALTER TYPE user_role ADD VALUE 'GUEST'")
    problems = await _problems(database_url)
    assert len([p for p in problems if p.startswith("enum")]) == 1
    assert len([p for p in problems if "column name" in p]) >= 5


async def test_check_on_a_live_database_and_opting_out_at_connect(database_url: str) -> None:
    async with Database(database_url, check_schema=False) as db:
        await _alter(database_url, "ALTER TABLE users ALTER COLUMN name TYPE integer USING NULL")
        with pytest.raises(SchemaMismatchError):
            await db.check()
    async with Database(database_url, check_schema=False) as db:  # connects anyway
        assert await db.health_check()


async def test_rows_that_no_longer_fit_raise_schema_mismatch_not_pydantic(
        database_url: str) -> None:
    async with Database(database_url, check_schema=False) as db:
        user = await db.create_user(email="drift@example.com")
        await _alter(database_url, "ALTER TABLE users ALTER COLUMN name TYPE integer "
                                   "USING 7")
        with pytest.raises(SchemaMismatchError) as caught:
            await db.get_user_by_id(user.id)
        assert str(caught.value.problems[0]).startswith(
            "get_user_by_id: row field name: expected a valid User")
        with pytest.raises(SchemaMismatchError):
            await db.list_users()
