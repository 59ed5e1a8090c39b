"""Users: accounts, API-key authentication, soft and hard delete."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from helpers import assert_aware, count_rows, expect_invalid

from gatewaydb import ConflictError, Database, NotFoundError
from gatewaydb.gateway.models import NewUser, Role, User
from gatewaydb.gateway.users import api_key_digest

pytestmark = pytest.mark.anyio


async def test_create_reads_back_every_field_with_its_type(db: Database) -> None:
    user = await db.create_user(email="enterprise@example.com", name="Enterprise User",
                                role="ENTERPRISE", api_key="ent_key_12345",
                                settings={"notifications": True, "theme": "dark"})
    assert isinstance(user, User)
    assert isinstance(user.id, UUID)
    assert (user.email, user.name, user.role) == ("enterprise@example.com", "Enterprise User",
                                                  Role.ENTERPRISE)
    assert user.role is Role.ENTERPRISE
    assert user.has_api_key is True
    assert user.settings == {"notifications": True, "theme": "dark"}
    assert_aware(user.created_at, user.updated_at)
    assert user.deleted_at is None
    assert await db.get_user_by_id(user.id) == user
    assert await db.get_user_by_id(str(user.id)) == user


async def test_an_input_model_is_accepted(db: Database) -> None:
    user = await db.create_user(NewUser(email="model@example.com", role=Role.ADMIN))
    assert (user.role, user.has_api_key, user.settings) == (Role.ADMIN, False, {})


async def test_email_is_unique_whatever_its_case(db: Database) -> None:
    await db.create_user(email="Ann@Example.com")
    assert (await db.get_user_by_email("ann@EXAMPLE.com")) is not None
    with pytest.raises(ConflictError) as caught:
        await db.create_user(email="ann@example.com")
    assert (caught.value.field, caught.value.constraint) == ("email", "users_email_key")


async def test_api_key_authenticates_and_is_never_stored_or_shown(db: Database) -> None:
    user = await db.create_user(email="key@example.com", api_key="ent_key_12345")
    assert await db.get_user_by_api_key("ent_key_12345") == user
    assert await db.get_user_by_api_key("wrong_key_000") is None
    assert await db.get_user_by_api_key("") is None
    assert "ent_key_12345" not in user.model_dump_json()
    async with db.acquire() as conn:
        stored = await conn.fetchval("SELECT api_key_digest FROM users WHERE id = $1", user.id)
        assert stored == api_key_digest("ent_key_12345")
        assert await conn.fetchval(
            "SELECT count(*) FROM users WHERE position('ent_key' in users::text) > 0") == 0


async def test_duplicate_api_key_conflict_reveals_neither_key_nor_digest(db: Database) -> None:
    await db.create_user(email="k1@example.com", api_key="shared_key_123")
    with pytest.raises(ConflictError) as caught:
        await db.create_user(email="k2@example.com", api_key="shared_key_123")
    assert caught.value.field == "api_key"
    digest = api_key_digest("shared_key_123").hex()
    for text in (str(caught.value), str(caught.value.__cause__)):
        assert "shared_key_123" not in text
        assert digest not in text


async def test_rotate_api_key_replaces_the_old_key_at_once(db: Database) -> None:
    user = await db.create_user(email="rotate@example.com", api_key="old_key_12345")
    new_key = await db.rotate_api_key(user.id)
    assert new_key.startswith("gw_")
    assert len(new_key) > 40
    assert await db.get_user_by_api_key("old_key_12345") is None
    assert (await db.get_user_by_api_key(new_key)) is not None
    with pytest.raises(NotFoundError):
        await db.rotate_api_key(uuid4())


async def test_update_sets_only_given_fields_and_can_clear_name(db: Database) -> None:
    user = await db.create_user(email="upd@example.com", name="Before",
                                settings={"theme": "dark"})
    updated = await db.update_user(user.id, settings={**user.settings, "language": "es"})
    assert updated.settings == {"theme": "dark", "language": "es"}
    assert updated.name == "Before"
    assert updated.updated_at > user.updated_at  # maintained by the database's trigger
    cleared = await db.update_user(user.id, name=None, role="ADMIN")
    assert (cleared.name, cleared.role, cleared.settings) == (None, Role.ADMIN, updated.settings)


async def test_soft_delete_hides_the_user_and_stops_the_key(db: Database) -> None:
    user = await db.create_user(email="gone@example.com", api_key="gone_key_12345")
    await db.delete_user(user.id)
    assert await db.get_user_by_id(user.id) is None
    assert await db.get_user_by_email("gone@example.com") is None
    assert await db.get_user_by_api_key("gone_key_12345") is None
    assert user.id not in [u.id for u in await db.list_users()]
    for again in (db.delete_user(user.id), db.update_user(user.id, name="x"),
                  db.rotate_api_key(user.id)):
        with pytest.raises(NotFoundError):
            await again
    assert await count_rows(db, "users") == 1  # still there, only hidden


async def test_list_users_pages_and_filters_by_role(db: Database) -> None:
    for n in range(5):
        await db.create_user(email=f"u{n}@example.com", role="ADMIN" if n % 2 else "USER")
    page = await db.list_users(skip=1, take=2)
    assert [u.email for u in page] == ["u1@example.com", "u2@example.com"]
    admins = await db.list_users(role=Role.ADMIN)
    assert [u.email for u in admins] == ["u1@example.com", "u3@example.com"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"email": "not-an-email"}, "email", id="malformed-email"),
        pytest.param({"email": "a@b.co", "role": "ROOT"}, "role", id="unknown-role"),
        pytest.param({"email": "a@b.co", "api_key": "short"}, "api_key", id="short-key"),
        pytest.param({"email": "a@b.co", "settings": [1, 2]}, "settings", id="settings-not-object"),
        pytest.param({"email": "a@b.co", "name": ""}, "name", id="empty-name"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(
        db: Database, fields: dict[str, Any], field: str) -> None:
    error = await expect_invalid(db.create_user(**fields), field)
    assert "short" not in str(error) or field != "api_key"  # the key is never echoed
    assert await count_rows(db, "users") == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        pytest.param(lambda db: db.get_user_by_id("not-a-uuid"), "id", id="bad-id"),
        pytest.param(lambda db: db.list_users(take=0), "take", id="take-zero"),
        pytest.param(lambda db: db.list_users(take=1001), "take", id="take-too-big"),
        pytest.param(lambda db: db.list_users(skip=-1), "skip", id="negative-skip"),
        pytest.param(lambda db: db.list_users(role="nobody"), "role", id="bad-role-filter"),
        pytest.param(lambda db: db.update_user(uuid4(), password="x"), "password",
                     id="unknown-field"),
    ],
)
async def test_bad_arguments_name_the_field(db: Database, call: Any, field: str) -> None:
    await expect_invalid(call(db), field)
