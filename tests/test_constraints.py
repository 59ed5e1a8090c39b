"""Every constraint in the migrations refuses a bad row with the right SQLSTATE and name, the
foreign keys cascade, restrict or set null as designed, and triggers keep updated_at."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

pytestmark = pytest.mark.anyio

CHECK_VIOLATION = "23514"
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
# ON DELETE RESTRICT: PostgreSQL 18 reports restrict_violation (23001); earlier versions,
# like the default NO ACTION, report foreign_key_violation (23503).
RESTRICT_VIOLATION = frozenset({"23001", "23503"})

# Each table's parent (foreign key column -> table) and the values of a valid row.
PARENTS: dict[str, dict[str, str]] = {
    "users": {},
    "assets": {"user_id": "users"},
    "clips": {"asset_id": "assets"},
    "campaigns": {"user_id": "users"},
    "experiments": {"campaign_id": "campaigns"},
    "predictions": {"clip_id": "clips"},
    "conversions": {"campaign_id": "campaigns"},
}
_emails = itertools.count(1)
VALID: dict[str, Callable[[], dict[str, Any]]] = {
    "users": lambda: {"email": f"user{next(_emails)}@example.com"},
    "assets": lambda: {"filename": "a.mp4", "gcs_url": "gs://bucket/a.mp4"},
    "clips": lambda: {"start_time": 0.0, "end_time": 10.0},
    "campaigns": lambda: {"name": "launch", "objective": "SALES", "budget": Decimal("100")},
    "experiments": lambda: {"name": "hooks", "variants": '[{"id": "a"}, {"id": "b"}]'},
    "predictions": lambda: {"model_version": "v1"},
    "conversions": lambda: {"source": "META", "value": Decimal("9.99"),
                            "timestamp": datetime.now(UTC)},
}


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def insert(conn: asyncpg.Connection, table: str, **values: Any) -> uuid.UUID:
    """Insert a valid ``table`` row overridden by ``values``; missing parents are created.

    Table and column names come from this module's literals, never from data; values are
    bound parameters.
    """
    for column, parent in PARENTS[table].items():
        if column not in values:
            values[column] = await insert(conn, parent)
    row = {**VALID[table](), **values}
    columns = ", ".join(_quoted(c) for c in row)
    params = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    sql = f"INSERT INTO {_quoted(table)} ({columns}) VALUES ({params}) RETURNING id"  # noqa: S608
    new_id: uuid.UUID = await conn.fetchval(sql, *row.values())
    return new_id


async def expect_violation(action: Awaitable[object], sqlstate: str | frozenset[str],
                           constraint: str | None = None) -> None:
    """``action`` fails with ``sqlstate`` (or one of them) on ``constraint``."""
    accepted = {sqlstate} if isinstance(sqlstate, str) else sqlstate
    with pytest.raises(asyncpg.PostgresError) as info:
        await action
    assert info.value.sqlstate in accepted, info.value
    if constraint is not None:
        assert info.value.constraint_name == constraint


COMPLETED_AT = datetime(2024, 1, 1, tzinfo=UTC)

CHECKS = [
    pytest.param("users", {"email": "not-an-email"}, "users_email_check", id="email-format"),
    pytest.param("users", {"api_key_digest": b"\x00" * 31}, "users_api_key_digest_check",
                 id="api-key-digest-short"),
    pytest.param("users", {"api_key_digest": b"\x00" * 33}, "users_api_key_digest_check",
                 id="api-key-digest-long"),
    pytest.param("users", {"settings": "[]"}, "users_settings_check", id="settings-not-object"),
    pytest.param("assets", {"filename": ""}, "assets_filename_check", id="asset-filename-empty"),
    pytest.param("assets", {"file_size": -1}, "assets_file_size_check", id="file-size-negative"),
    pytest.param("assets", {"duration": -0.5}, "assets_duration_check",
                 id="asset-duration-negative"),
    pytest.param("assets", {"width": 0}, "assets_width_check", id="asset-width-zero"),
    pytest.param("clips", {"start_time": -1.0}, "clips_start_time_check",
                 id="start-time-negative"),
    pytest.param("clips", {"start_time": 5.0, "end_time": 5.0}, "clips_time_order",
                 id="end-time-equals-start"),
    pytest.param("clips", {"start_time": 5.0, "end_time": 4.0}, "clips_time_order",
                 id="end-time-before-start"),
    pytest.param("clips", {"duration": -1.0}, "clips_duration_check",
                 id="clip-duration-negative"),
    pytest.param("clips", {"score": 1.01}, "clips_score_check", id="score-above-1"),
    pytest.param("clips", {"score": -0.01}, "clips_score_check", id="score-below-0"),
    pytest.param("clips", {"viral_score": 2.0}, "clips_viral_score_check", id="viral-score"),
    pytest.param("clips", {"engagement_score": -1.0}, "clips_engagement_score_check",
                 id="engagement-score"),
    pytest.param("clips", {"rank": 0}, "clips_rank_check", id="rank-zero"),
    pytest.param("campaigns", {"name": ""}, "campaigns_name_check", id="campaign-name-empty"),
    pytest.param("campaigns", {"budget": Decimal("-1")}, "campaigns_budget_check",
                 id="budget-negative"),
    pytest.param("campaigns", {"daily_budget": Decimal("-0.01")},
                 "campaigns_daily_budget_check", id="daily-budget-negative"),
    *(pytest.param("campaigns", {column: -1}, f"campaigns_{column}_check",
                   id=f"{column.replace('_', '-')}-negative")
      for column in ("total_spend", "total_impressions", "total_clicks", "total_conversions")),
    pytest.param("campaigns", {"start_date": COMPLETED_AT,
                               "end_date": COMPLETED_AT - timedelta(days=1)},
                 "campaigns_date_order", id="end-date-before-start"),
    pytest.param("experiments", {"variants": '[{"id": "a"}]'}, "experiments_variants_check",
                 id="one-variant"),
    pytest.param("experiments", {"variants": '{"a": 1, "b": 2}'}, "experiments_variants_check",
                 id="variants-not-array"),
    pytest.param("experiments", {"confidence": 1.5}, "experiments_confidence_check",
                 id="experiment-confidence-above-1"),
    pytest.param("experiments", {"status": "COMPLETED"}, "experiments_completed_has_winner",
                 id="completed-without-winner"),
    pytest.param("experiments", {"status": "COMPLETED", "winner_variant_id": "a",
                                 "confidence": 0.9}, "experiments_completed_has_winner",
                 id="completed-without-completed-at"),
    pytest.param("predictions", {"model_version": ""}, "predictions_model_version_check",
                 id="model-version-empty"),
    *(pytest.param("predictions", {column: value}, f"predictions_{column}_check",
                   id=f"{column.replace('_', '-')}-{label}")
      for column, value, label in (
          ("predicted_roas", -0.1, "negative"), ("predicted_ctr", 1.1, "above-1"),
          ("predicted_cpc", -0.1, "negative"), ("confidence", -0.1, "below-0"),
          ("actual_roas", -0.1, "negative"), ("actual_ctr", 1.1, "above-1"),
          ("actual_cpc", -0.1, "negative"), ("prediction_error", -0.1, "negative"))),
    pytest.param("conversions", {"value": Decimal("-1")}, "conversions_value_check",
                 id="conversion-value-negative"),
    pytest.param("conversions", {"external_id": ""}, "conversions_external_id_check",
                 id="external-id-empty"),
    *(pytest.param("conversions", {"currency": currency}, "conversions_currency_check",
                   id=f"currency-{currency}")
      for currency in ("usd", "US", "USDX", "U$D")),
]


@pytest.mark.parametrize(("table", "values", "constraint"), CHECKS)
async def test_check_constraint_refuses_bad_row(conn: asyncpg.Connection, table: str,
                                                values: dict[str, Any], constraint: str) -> None:
    await expect_violation(insert(conn, table, **values), CHECK_VIOLATION, constraint)


async def test_completed_experiment_with_winner_is_accepted(conn: asyncpg.Connection) -> None:
    await insert(conn, "experiments", status="COMPLETED", winner_variant_id="a",
                 confidence=0.9, completed_at=COMPLETED_AT)


DIGEST = bytes(range(32))

UNIQUES = [
    pytest.param("users", {"email": "Ann@Example.com"}, {"email": "ann@example.COM"},
                 "users_email_key", id="email-case-insensitive"),
    pytest.param("users", {"api_key_digest": DIGEST}, {"api_key_digest": DIGEST},
                 "users_api_key_digest_key", id="api-key-digest"),
    pytest.param("campaigns", {"meta_campaign_id": "m1"}, {"meta_campaign_id": "m1"},
                 "campaigns_meta_campaign_id_key", id="meta-campaign-id"),
    pytest.param("campaigns", {"google_campaign_id": "g1"}, {"google_campaign_id": "g1"},
                 "campaigns_google_campaign_id_key", id="google-campaign-id"),
    pytest.param("conversions", {"source": "META", "external_id": "evt-1"},
                 {"source": "META", "external_id": "evt-1"},
                 "conversions_source_external_id_key", id="conversion-source-external-id"),
]


@pytest.mark.parametrize(("table", "first", "second", "constraint"), UNIQUES)
async def test_unique_constraint_refuses_duplicate(
        conn: asyncpg.Connection, table: str, first: dict[str, Any], second: dict[str, Any],
        constraint: str) -> None:
    await insert(conn, table, **first)
    await expect_violation(insert(conn, table, **second), UNIQUE_VIOLATION, constraint)


@pytest.mark.parametrize(("table", "first", "second"), [
    pytest.param("conversions", {"source": "META", "external_id": "evt-1"},
                 {"source": "GOOGLE", "external_id": "evt-1"}, id="same-id-other-source"),
    pytest.param("conversions", {"external_id": None}, {"external_id": None},
                 id="conversions-without-external-id"),
    pytest.param("users", {"api_key_digest": None}, {"api_key_digest": None},
                 id="users-without-api-key"),
])
async def test_unique_constraint_allows(conn: asyncpg.Connection, table: str,
                                        first: dict[str, Any], second: dict[str, Any]) -> None:
    await insert(conn, table, **first)
    await insert(conn, table, **second)


FOREIGN_KEYS = [
    pytest.param(table, column, f"{table}_{column}_fkey", id=f"{table}.{column}")
    for table, parents in PARENTS.items() for column in parents
] + [pytest.param("conversions", "attributed_clip_id", "conversions_attributed_clip_id_fkey",
                  id="conversions.attributed_clip_id")]


@pytest.mark.parametrize(("table", "column", "constraint"), FOREIGN_KEYS)
async def test_foreign_key_refuses_missing_parent(conn: asyncpg.Connection, table: str,
                                                  column: str, constraint: str) -> None:
    await expect_violation(insert(conn, table, **{column: uuid.uuid4()}),
                           FOREIGN_KEY_VIOLATION, constraint)


async def exists(conn: asyncpg.Connection, table: str, row_id: uuid.UUID) -> bool:
    sql = f"SELECT EXISTS (SELECT FROM {_quoted(table)} WHERE id = $1)"  # noqa: S608
    found: bool = await conn.fetchval(sql, row_id)
    return found


async def test_campaign_with_conversions_cannot_be_hard_deleted(
        conn: asyncpg.Connection) -> None:
    campaign = await insert(conn, "campaigns")
    await insert(conn, "conversions", campaign_id=campaign)
    await expect_violation(conn.execute("DELETE FROM campaigns WHERE id = $1", campaign),
                           RESTRICT_VIOLATION, "conversions_campaign_id_fkey")
    assert await exists(conn, "campaigns", campaign)


async def test_user_with_conversions_cannot_be_hard_deleted(conn: asyncpg.Connection) -> None:
    user = await insert(conn, "users")
    await insert(conn, "conversions", campaign_id=await insert(conn, "campaigns", user_id=user))
    await expect_violation(conn.execute("DELETE FROM users WHERE id = $1", user),
                           RESTRICT_VIOLATION, "conversions_campaign_id_fkey")
    assert await exists(conn, "users", user)


async def test_user_delete_cascades_to_everything_it_owns(conn: asyncpg.Connection) -> None:
    user = await insert(conn, "users")
    owned = {"assets": await insert(conn, "assets", user_id=user),
             "campaigns": await insert(conn, "campaigns", user_id=user)}
    owned["clips"] = await insert(conn, "clips", asset_id=owned["assets"])
    owned["predictions"] = await insert(conn, "predictions", clip_id=owned["clips"])
    owned["experiments"] = await insert(conn, "experiments", campaign_id=owned["campaigns"])
    bystander = await insert(conn, "clips")  # another user's: must survive

    await conn.execute("DELETE FROM users WHERE id = $1", user)

    for table, row_id in owned.items():
        assert not await exists(conn, table, row_id), table
    assert await exists(conn, "clips", bystander)


async def test_deleting_a_clip_keeps_its_conversions_unattributed(
        conn: asyncpg.Connection) -> None:
    clip = await insert(conn, "clips")
    conversion = await insert(conn, "conversions", attributed_clip_id=clip)

    await conn.execute("DELETE FROM clips WHERE id = $1", clip)

    assert await conn.fetchval(
        "SELECT attributed_clip_id FROM conversions WHERE id = $1", conversion) is None


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("table", "column", "value"), [
    ("users", "name", "Ann"),
    ("assets", "original_name", "holiday.mp4"),
    ("clips", "has_text", True),
    ("campaigns", "name", "relaunch"),
    ("experiments", "name", "thumbnails"),
    ("predictions", "model_version", "v2"),
    ("conversions", "currency", "EUR"),
])
async def test_update_trigger_maintains_updated_at(conn: asyncpg.Connection, table: str,
                                                   column: str, value: object) -> None:
    row = await insert(conn, table, created_at=LONG_AGO, updated_at=LONG_AGO)
    # Even a caller that sets updated_at gets the transaction's time instead.
    sql = (f"UPDATE {_quoted(table)} SET {_quoted(column)} = $2, updated_at = $3 "  # noqa: S608
           "WHERE id = $1 RETURNING created_at, updated_at, now() AS now")
    updated = await conn.fetchrow(sql, row, value, LONG_AGO)

    assert updated["created_at"] == LONG_AGO
    assert updated["updated_at"] == updated["now"]
