"""Users and API-key authentication (SQL: ``sql/users.sql``).

API keys are stored only as SHA-256 digests. A key is high-entropy by construction (see
:meth:`UsersAPI.rotate_api_key`), so an unsalted fast hash is the right tool: it makes the
lookup one indexed equality, and a leaked table does not reveal usable keys.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from . import queries as q
from ._base import (
    DomainAPI,
    as_enum,
    as_text,
    as_uuid,
    found,
    validate,
    validate_page,
    validate_update,
)
from .models import NewUser, Role, User, UserUpdate

__all__ = ["UsersAPI", "api_key_digest"]

_KEY_PREFIX = "gw_"


def api_key_digest(key: str) -> bytes:
    """The SHA-256 digest under which ``key`` is stored."""
    return hashlib.sha256(key.encode("utf-8")).digest()


class UsersAPI(DomainAPI):
    """User accounts: create, authenticate by API key, update, rotate keys, delete."""

    __slots__ = ()

    async def create_user(self, email: str | NewUser, name: str | None = None,
                          role: Role | str = Role.USER, api_key: str | None = None,
                          settings: dict[str, Any] | None = None) -> User:
        """Create a user; ``api_key``, if given, is stored only as its digest.

        Raises:
            InvalidInputError: malformed email, unknown role, a key shorter than 8 characters.
            ConflictError: the email (any case) or the API key is already taken.
        """
        data = email if isinstance(email, NewUser) else validate(
            NewUser, email=email, name=name, role=role, api_key=api_key, settings=settings)
        digest = (api_key_digest(data.api_key.get_secret_value())
                  if data.api_key is not None else None)
        user = await self.run(q.create_user(data.email, data.name, data.role, digest,
                                            data.settings or {}))
        assert user is not None
        return user

    async def get_user_by_id(self, id: UUID | str) -> User | None:
        """The live user with this id, or None (also for a soft-deleted one)."""
        return await self.run(q.get_user_by_id(as_uuid(id)))

    async def get_user_by_email(self, email: str) -> User | None:
        """The live user with this email (case-insensitive), or None.

        Raises:
            InvalidInputError: ``email`` is not a string PostgreSQL text can hold.
        """
        return await self.run(q.get_user_by_email(as_text(email, "email")))

    async def get_user_by_api_key(self, key: str) -> User | None:
        """Authenticate: the live user holding ``key``, or None. Soft-deleted users fail.

        An empty key matches no one (None).

        Raises:
            InvalidInputError: ``key`` is not a string, or not valid text (NUL, lone
                surrogate) — no key could ever have been created so; the key is not shown.
        """
        if as_text(key, "key") == "":
            return None
        return await self.run(q.get_user_by_api_key(api_key_digest(key)))

    async def update_user(self, id: UUID | str,
                          update: UserUpdate | Mapping[str, Any] | None = None,
                          **fields: Any) -> User:
        """Change the given fields (``email``, ``name``, ``role``, ``settings``).

        Give them as keywords (``update_user(id, name="Ann")``), as a :class:`UserUpdate`,
        or as a mapping (``update_user(id, {"name": "Ann"})``) — one of the three.
        ``settings`` replaces the stored object; merge first (``{**user.settings, ...}``)
        to keep other keys, as the seed does.

        Raises:
            InvalidInputError: an unknown field, a bad value, or both an update object and
                keywords.
            NotFoundError: no live user has this id.
            ConflictError: the new email is taken.
        """
        key = as_uuid(id)
        data = validate_update(UserUpdate, update, fields)
        given = sorted(data.model_fields_set)
        user = await self.run(q.update_user(key, given, data.email, data.name,
                                            data.role, data.settings))
        return found(user, "user", id)

    async def delete_user(self, id: UUID | str, soft: bool = True) -> None:
        """Delete a user: soft by default (hidden from every getter, key stops working).

        ``soft=False`` removes the row and, by cascade, the user's assets, clips,
        predictions, campaigns and experiments in one statement; it is refused with
        ForeignKeyError while any of the user's campaigns has conversions.

        Raises:
            NotFoundError: no live user has this id.
            ForeignKeyError: a hard delete refused by recorded conversions.
        """
        await self._delete(q.soft_delete_user, q.hard_delete_user, soft, "user", id)

    async def list_users(self, role: Role | str | None = None, *, skip: int = 0,
                         take: int = 100) -> list[User]:
        """A page of live users, oldest first; ``1 <= take <= 1000``."""
        validate_page(skip, take)
        return await self.run(q.list_users(skip, take, as_enum(Role, role, "role")))

    async def rotate_api_key(self, id: UUID | str) -> str:
        """Give a live user a new random API key and return it; this is its only copy.

        Raises:
            NotFoundError: no live user has this id.
        """
        key = _KEY_PREFIX + secrets.token_urlsafe(32)
        updated = await self.run(q.rotate_api_key(as_uuid(id), api_key_digest(key)))
        found(updated, "user", id)
        return key
