"""Errors: the right class for misuse and for loss, the server's facts, and pickling."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

import gatewaydb
from gatewaydb import (
    ConflictError,
    Database,
    DatabaseError,
    DatabaseUnavailableError,
    ForeignKeyError,
    InterfaceError,
    InvalidInputError,
    NotFoundError,
    Transaction,
    TransactionConflictError,
)
from gatewaydb.core.errors import translate_error
from gatewaydb.gateway.models import Campaign

pytestmark = pytest.mark.anyio


async def _server_error(conn: asyncpg.Connection, sqlstate: str) -> asyncpg.PostgresError:
    """A real server error with ``sqlstate``, raised by PostgreSQL itself."""
    with pytest.raises(asyncpg.PostgresError) as caught:
        await conn.execute(
            f"DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{sqlstate}'; END $$")
    return caught.value


async def test_every_error_survives_a_pickle_round_trip(db: Database,
                                                       campaign: Campaign) -> None:
    await db.create_user(email="dup@example.com")
    with pytest.raises(ConflictError) as conflict:
        await db.create_user(email="dup@example.com")
    with pytest.raises(NotFoundError) as missing:
        await db.update_user(uuid4(), name="x")
    with pytest.raises(ForeignKeyError) as foreign:
        await db.create_conversion(campaign.id, "META", 1, datetime.now(UTC),
                                   attributed_clip_id=uuid4())
    errors = [conflict.value, missing.value, foreign.value,
              InvalidInputError([gatewaydb.errors.FieldError("email", "bad")], sqlstate="23514"),
              DatabaseUnavailableError("gone", sqlstate="57P01", statement="get_user_by_id"),
              gatewaydb.SchemaMismatchError([gatewaydb.errors.SchemaProblem("s", "i", "e", "a")]),
              gatewaydb.ConfigurationError("bad"), InterfaceError("misused")]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)


async def test_server_errors_carry_sqlstate_constraint_table_and_column(db: Database) -> None:
    await db.create_user(email="twice@example.com")
    with pytest.raises(ConflictError) as caught:
        await db.create_user(email="twice@example.com")
    error = caught.value
    assert (error.sqlstate, error.constraint, error.table, error.field) == (
        "23505", "users_email_key", "users", "email")
    assert "twice@example.com" not in str(error)
    assert error.__cause__ is not None
    assert "twice@example.com" not in str(error.__cause__)


async def test_only_serialization_failures_and_deadlocks_are_retried(
        db: Database, conn: asyncpg.Connection) -> None:
    for sqlstate, retried in (("40001", True), ("40P01", True), ("40003", False),
                              ("40002", False)):
        error = translate_error(await _server_error(conn, sqlstate))
        assert isinstance(error, TransactionConflictError) is retried, sqlstate
        assert isinstance(error, DatabaseError)
        assert error.sqlstate == sqlstate
        calls = 0

        async def body(tx: Transaction, error: Exception = error) -> None:
            nonlocal calls
            calls += 1
            raise error

        with pytest.raises(type(error)):
            await db.transaction(body, retries=2)
        assert calls == (3 if retried else 1), sqlstate


async def test_two_statements_at_once_on_a_transaction_are_misuse(db: Database) -> None:
    user = await db.create_user(email="busy@example.com")
    async with db.transaction() as tx:
        results = await asyncio.gather(tx.get_user_by_id(user.id), tx.get_user_by_id(user.id),
                                       return_exceptions=True)
        assert results[0] == user
        assert isinstance(results[1], InterfaceError)
        assert "one statement at a time" in str(results[1])
        assert await tx.get_user_by_id(user.id) == user  # still usable afterwards
    with pytest.raises(InterfaceError, match="transaction has ended"):
        await tx.get_user_by_id(user.id)


async def test_a_lost_transaction_connection_is_unavailable_not_misuse(
        db: Database, database_url: str) -> None:
    with pytest.raises(DatabaseUnavailableError):
        async with db.transaction() as tx:
            tx.connection.terminate()
            await tx.get_user_by_id(uuid4())
    assert await db.get_user_by_id(uuid4()) is None


def test_the_documented_errors_are_exported() -> None:
    for name in ("ConfigurationError", "InterfaceError", "SQLRegistryError"):
        assert name in gatewaydb.__all__
        assert issubclass(getattr(gatewaydb, name), gatewaydb.GatewayDBError)
