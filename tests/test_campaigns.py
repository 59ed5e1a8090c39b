"""Campaigns: create, read, list, update, metrics (set and atomic increment), stats, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from helpers import assert_aware, count_rows, expect_invalid

from gatewaydb import ConflictError, Database, ForeignKeyError, InvalidInputError, NotFoundError
from gatewaydb.gateway.models import (
    Campaign,
    CampaignMetrics,
    CampaignObjective,
    CampaignStats,
    CampaignStatus,
    MetricsDelta,
    NewCampaign,
    User,
)

pytestmark = pytest.mark.anyio

JUNE = datetime(2025, 6, 1, tzinfo=UTC)
AUGUST = datetime(2025, 8, 31, tzinfo=UTC)


async def _add_conversion(db: Database, campaign_id: UUID) -> None:
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO conversions (campaign_id, source, value, \"timestamp\") "
                           "VALUES ($1, 'META', 1, now())", campaign_id)


# -- create and read ------------------------------------------------------------------------


async def test_create_reads_back_every_field_with_its_type(db: Database, user: User) -> None:
    campaign = await db.create_campaign(
        user_id=str(user.id), name="Summer Sale 2025", objective="CONVERSIONS", budget=5000,
        daily_budget="200.50", meta_campaign_id="meta_123456", google_campaign_id="g_1",
        target_audience={"age": [25, 45], "interests": ["technology", "business"]},
        start_date=JUNE, end_date=AUGUST, status="ACTIVE")
    assert isinstance(campaign, Campaign)
    assert isinstance(campaign.id, UUID)
    assert campaign.user_id == user.id
    assert campaign.name == "Summer Sale 2025"
    assert campaign.objective is CampaignObjective.CONVERSIONS
    assert campaign.status is CampaignStatus.ACTIVE
    assert (campaign.budget, campaign.daily_budget) == (Decimal("5000.00"), Decimal("200.50"))
    assert isinstance(campaign.budget, Decimal)
    assert isinstance(campaign.daily_budget, Decimal)
    assert (campaign.meta_campaign_id, campaign.google_campaign_id) == ("meta_123456", "g_1")
    assert campaign.target_audience == {"age": [25, 45], "interests": ["technology", "business"]}
    assert (campaign.start_date, campaign.end_date) == (JUNE, AUGUST)
    assert campaign.total_spend == Decimal("0.00")
    assert isinstance(campaign.total_spend, Decimal)
    for counter in (campaign.total_impressions, campaign.total_clicks,
                    campaign.total_conversions):
        assert counter == 0
        assert type(counter) is int
    assert_aware(campaign.start_date, campaign.end_date, campaign.created_at,
                 campaign.updated_at)
    assert campaign.deleted_at is None
    assert await db.get_campaign_by_id(campaign.id) == campaign
    assert await db.get_campaign_by_id(str(campaign.id)) == campaign


async def test_defaults(campaign: Campaign) -> None:
    assert campaign.status is CampaignStatus.DRAFT
    assert (campaign.daily_budget, campaign.meta_campaign_id, campaign.google_campaign_id,
            campaign.start_date, campaign.end_date) == (None, None, None, None, None)
    assert campaign.target_audience == {}


async def test_an_input_model_is_accepted(db: Database, user: User) -> None:
    campaign = await db.create_campaign(NewCampaign(
        user_id=user.id, name="Model", objective=CampaignObjective.SALES,
        budget=Decimal("10.25")))
    assert (campaign.name, campaign.objective, campaign.budget) == (
        "Model", CampaignObjective.SALES, Decimal("10.25"))


@pytest.mark.parametrize("owner", ["missing", "soft-deleted"])
async def test_create_needs_a_live_user(db: Database, user: User, owner: str) -> None:
    if owner == "soft-deleted":
        await db.delete_user(user.id)
    user_id = user.id if owner == "soft-deleted" else uuid4()
    with pytest.raises(NotFoundError) as caught:
        await db.create_campaign(user_id, "Orphan", "SALES", 1)
    assert caught.value.entity == "user"
    assert await count_rows(db, "campaigns") == 0


_GOOD: dict[str, Any] = {"name": "Ok", "objective": "SALES", "budget": 100}


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"budget": -1}, "budget", id="negative-budget"),
    pytest.param({"budget": "1.005"}, "budget", id="budget-sub-cent"),
    pytest.param({"budget": "lots"}, "budget", id="budget-not-a-number"),
    pytest.param({"daily_budget": -5}, "daily_budget", id="negative-daily-budget"),
    pytest.param({"objective": "FAME"}, "objective", id="unknown-objective"),
    pytest.param({"status": "ARCHIVED"}, "status", id="unknown-status"),
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"start_date": datetime(2025, 6, 1)}, "start_date", id="naive-date"),
    pytest.param({"start_date": AUGUST, "end_date": JUNE}, "end_date", id="end-before-start"),
    pytest.param({"target_audience": ["not", "an", "object"]}, "target_audience",
                 id="audience-not-object"),
    pytest.param({"user_id": "not-a-uuid"}, "user_id", id="bad-user-id"),
])
async def test_bad_input_is_refused_by_field_and_writes_nothing(
        db: Database, user: User, change: dict[str, Any], field: str) -> None:
    await expect_invalid(db.create_campaign(**{"user_id": user.id, **_GOOD, **change}), field)
    assert await count_rows(db, "campaigns") == 0


async def test_platform_ids_are_unique(db: Database, user: User) -> None:
    await db.create_campaign(user.id, "One", "SALES", 1, meta_campaign_id="meta_1")
    with pytest.raises(ConflictError) as caught:
        await db.create_campaign(user.id, "Two", "SALES", 1, meta_campaign_id="meta_1")
    assert caught.value.field == "meta_campaign_id"
    assert await count_rows(db, "campaigns") == 1


async def test_get_missing_is_none(db: Database) -> None:
    assert await db.get_campaign_by_id(uuid4()) is None
    with pytest.raises(InvalidInputError):
        await db.get_campaign_by_id("nope")


# -- list -----------------------------------------------------------------------------------


async def test_list_is_one_users_live_campaigns_newest_first(db: Database, user: User) -> None:
    other = await db.create_user(email="other@example.com")
    await db.create_campaign(other.id, "Not mine", "SALES", 1)
    made = [await db.create_campaign(user.id, f"C{i}", "SALES", 1,
                                     status="ACTIVE" if i % 2 else "DRAFT") for i in range(5)]
    await db.delete_campaign(made[0].id)
    listed = await db.list_campaigns(user.id)
    assert [c.id for c in listed] == [c.id for c in reversed(made[1:])]
    active = await db.list_campaigns(str(user.id), status="ACTIVE")
    assert [c.name for c in active] == ["C3", "C1"]
    assert await db.list_campaigns(user.id, status=CampaignStatus.PAUSED) == []
    pages = [await db.list_campaigns(user.id, skip=s, take=2) for s in (0, 2, 4)]
    assert [c.id for page in pages for c in page] == [c.id for c in listed]


@pytest.mark.parametrize(("kwargs", "field"), [
    pytest.param({"skip": -1}, "skip", id="negative-skip"),
    pytest.param({"take": 0}, "take", id="take-zero"),
    pytest.param({"take": 1001}, "take", id="take-too-big"),
    pytest.param({"status": "ARCHIVED"}, "status", id="unknown-status"),
])
async def test_list_refuses_bad_arguments(db: Database, user: User, kwargs: dict[str, Any],
                                          field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await db.list_campaigns(user.id, **kwargs)
    assert caught.value.fields == (field,)


# -- update ---------------------------------------------------------------------------------


async def test_update_sets_given_fields_and_keeps_the_rest(db: Database, user: User) -> None:
    campaign = await db.create_campaign(user.id, "Before", "SALES", 100, daily_budget=10,
                                        meta_campaign_id="meta_1", target_audience={"a": 1},
                                        start_date=JUNE, end_date=AUGUST)
    updated = await db.update_campaign(campaign.id, name="After", status="PAUSED",
                                       budget="250.75")
    assert (updated.name, updated.status, updated.budget) == (
        "After", CampaignStatus.PAUSED, Decimal("250.75"))
    assert (updated.objective, updated.daily_budget, updated.meta_campaign_id,
            updated.target_audience, updated.start_date, updated.end_date) == (
        campaign.objective, campaign.daily_budget, "meta_1", {"a": 1}, JUNE, AUGUST)
    assert updated.updated_at > campaign.updated_at
    assert await db.get_campaign_by_id(campaign.id) == updated


async def test_update_clears_nullable_fields(db: Database, user: User) -> None:
    campaign = await db.create_campaign(user.id, "C", "SALES", 100, daily_budget=10,
                                        meta_campaign_id="meta_1", target_audience={"a": 1},
                                        start_date=JUNE)
    cleared = await db.update_campaign(campaign.id, daily_budget=None, meta_campaign_id=None,
                                       target_audience=None, start_date=None)
    assert (cleared.daily_budget, cleared.meta_campaign_id, cleared.target_audience,
            cleared.start_date) == (None, None, {}, None)


@pytest.mark.parametrize(("fields", "field"), [
    pytest.param({"name": None}, "name", id="clear-name"),
    pytest.param({"budget": None}, "budget", id="clear-budget"),
    pytest.param({"status": None}, "status", id="clear-status"),
    pytest.param({"budget": -3}, "budget", id="negative-budget"),
    pytest.param({"objective": "FAME"}, "objective", id="unknown-objective"),
    pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    pytest.param({"total_spend": 5}, "total_spend", id="totals-not-here"),
    pytest.param({"start_date": AUGUST, "end_date": JUNE}, "end_date", id="dates-reversed"),
    pytest.param({"end_date": datetime(2025, 7, 1)}, "end_date", id="naive-date"),
])
async def test_update_refuses_bad_input_and_changes_nothing(
        db: Database, campaign: Campaign, fields: dict[str, Any], field: str) -> None:
    await expect_invalid(db.update_campaign(campaign.id, **fields), field)
    assert await db.get_campaign_by_id(campaign.id) == campaign


async def test_update_checks_dates_against_the_stored_one(db: Database, user: User) -> None:
    campaign = await db.create_campaign(user.id, "C", "SALES", 1, start_date=AUGUST)
    with pytest.raises(InvalidInputError):
        await db.update_campaign(campaign.id, end_date=JUNE)
    assert await db.get_campaign_by_id(campaign.id) == campaign


async def test_update_to_a_taken_platform_id_conflicts(db: Database, user: User) -> None:
    await db.create_campaign(user.id, "A", "SALES", 1, google_campaign_id="g_1")
    other = await db.create_campaign(user.id, "B", "SALES", 1)
    with pytest.raises(ConflictError) as caught:
        await db.update_campaign(other.id, google_campaign_id="g_1")
    assert caught.value.field == "google_campaign_id"


# -- metrics --------------------------------------------------------------------------------


async def test_update_metrics_sets_values_and_none_keeps_them(db: Database,
                                                              campaign: Campaign) -> None:
    first = await db.update_campaign_metrics(campaign.id, total_spend=1250.50,
                                             total_impressions=125000, total_clicks=3500,
                                             total_conversions=175)
    assert (first.total_spend, first.total_impressions, first.total_clicks,
            first.total_conversions) == (Decimal("1250.50"), 125000, 3500, 175)
    assert isinstance(first.total_spend, Decimal)
    second = await db.update_campaign_metrics(campaign.id, CampaignMetrics(total_clicks=4000))
    assert (second.total_spend, second.total_impressions, second.total_clicks,
            second.total_conversions) == (Decimal("1250.50"), 125000, 4000, 175)


async def test_increment_adds_deltas(db: Database, campaign: Campaign) -> None:
    once = await db.increment_campaign_metrics(campaign.id, spend="10.10", impressions=100,
                                               clicks=5, conversions=1)
    twice = await db.increment_campaign_metrics(
        str(campaign.id), MetricsDelta(spend=Decimal("0.90"), clicks=1))
    assert (once.total_spend, once.total_impressions, once.total_clicks,
            once.total_conversions) == (Decimal("10.10"), 100, 5, 1)
    assert (twice.total_spend, twice.total_impressions, twice.total_clicks,
            twice.total_conversions) == (Decimal("11.00"), 100, 6, 1)
    assert type(twice.total_clicks) is int


@pytest.mark.parametrize(("method", "kwargs", "field"), [
    pytest.param("update_campaign_metrics", {"total_spend": -1}, "total_spend", id="set-spend"),
    pytest.param("update_campaign_metrics", {"total_clicks": -1}, "total_clicks",
                 id="set-clicks"),
    pytest.param("update_campaign_metrics", {"total_impressions": 1.5}, "total_impressions",
                 id="set-fraction"),
    pytest.param("increment_campaign_metrics", {"spend": "-0.01"}, "spend", id="add-spend"),
    pytest.param("increment_campaign_metrics", {"conversions": -1}, "conversions",
                 id="add-conversions"),
])
async def test_metrics_refuse_negative_or_malformed_values(
        db: Database, campaign: Campaign, method: str, kwargs: dict[str, Any],
        field: str) -> None:
    await expect_invalid(getattr(db, method)(campaign.id, **kwargs), field)
    assert await db.get_campaign_by_id(campaign.id) == campaign


@pytest.mark.slow
async def test_concurrent_increments_lose_nothing(database_url: str) -> None:
    tasks, increments = 50, 20
    async with Database(database_url, connection_limit=10) as db:
        user = await db.create_user(email="busy@example.com")
        campaign = await db.create_campaign(user.id, "Busy", "SALES", 1)

        async def worker() -> None:
            for _ in range(increments):
                await db.increment_campaign_metrics(campaign.id, spend="0.01", impressions=3,
                                                    clicks=2, conversions=1)

        async with anyio.create_task_group() as group:
            for _ in range(tasks):
                group.start_soon(worker)
        final = await db.get_campaign_by_id(campaign.id)
    n = tasks * increments
    assert final is not None
    assert (final.total_spend, final.total_impressions, final.total_clicks,
            final.total_conversions) == (Decimal("0.01") * n, 3 * n, 2 * n, n)


# -- stats ----------------------------------------------------------------------------------


async def test_stats_with_no_campaigns(db: Database, user: User) -> None:
    stats = await db.campaign_stats(user.id)
    assert stats == CampaignStats(total_spend_sum=Decimal(0), total_conversions_sum=0,
                                  total_spend_avg=None, campaign_count=0)
    assert isinstance(stats.total_spend_sum, Decimal)
    assert type(stats.total_conversions_sum) is int


async def test_stats_aggregate_the_users_live_campaigns(db: Database, user: User) -> None:
    other = await db.create_user(email="other@example.com")
    await db.increment_campaign_metrics(
        (await db.create_campaign(other.id, "Not mine", "SALES", 1)).id, spend=999)
    for spend, conversions in (("100.00", 3), ("50.00", 4), ("0.01", 0), ("7.77", 100)):
        campaign = await db.create_campaign(user.id, "C", "SALES", 1)
        await db.update_campaign_metrics(campaign.id, total_spend=spend,
                                         total_conversions=conversions)
    await db.delete_campaign(campaign.id)  # the last one: 7.77 and 100 no longer count
    stats = await db.campaign_stats(str(user.id))
    assert (stats.total_spend_sum, stats.total_conversions_sum, stats.campaign_count) == (
        Decimal("150.01"), 7, 3)
    assert stats.total_spend_avg is not None
    # PostgreSQL's avg(numeric), unrounded as Prisma's _avg: 50.00333...
    assert stats.total_spend_avg.quantize(Decimal("0.000001")) == Decimal("50.003333")
    assert isinstance(stats.total_spend_avg, Decimal)


# -- soft and hard delete -------------------------------------------------------------------


_WRITES: list[Any] = [
    pytest.param(lambda db, id: db.update_campaign(id, name="x"), id="update"),
    pytest.param(lambda db, id: db.update_campaign_metrics(id, total_clicks=1),
                 id="update-metrics"),
    pytest.param(lambda db, id: db.increment_campaign_metrics(id, clicks=1), id="increment"),
]


async def test_soft_delete_hides_the_campaign(db: Database, user: User,
                                              campaign: Campaign) -> None:
    await db.delete_campaign(campaign.id)
    assert await db.get_campaign_by_id(campaign.id) is None
    assert await db.list_campaigns(user.id) == []
    assert (await db.campaign_stats(user.id)).campaign_count == 0
    for write in _WRITES:  # deletes of a soft-deleted campaign: in test_deletes.py
        with pytest.raises(NotFoundError):
            await write.values[0](db, campaign.id)
    assert await count_rows(db, "campaigns") == 1  # still there, only hidden


@pytest.mark.parametrize("write", _WRITES)
async def test_writes_to_a_missing_campaign_raise_not_found(db: Database, write: Any) -> None:
    missing = uuid4()
    with pytest.raises(NotFoundError) as caught:
        await write(db, missing)
    assert (caught.value.entity, caught.value.key) == ("campaign", missing)


async def test_hard_delete_cascades_to_experiments(db: Database, campaign: Campaign) -> None:
    await db.create_experiment(campaign.id, "Headline", [{"id": "a"}, {"id": "b"}])
    await db.delete_campaign(campaign.id, soft=False)
    assert (await count_rows(db, "campaigns"), await count_rows(db, "experiments")) == (0, 0)


async def test_hard_delete_is_refused_while_conversions_exist(db: Database,
                                                              campaign: Campaign) -> None:
    await db.create_experiment(campaign.id, "Headline", [{"id": "a"}, {"id": "b"}])
    await _add_conversion(db, campaign.id)
    with pytest.raises(ForeignKeyError):
        await db.delete_campaign(campaign.id, soft=False)
    assert (await count_rows(db, "campaigns"), await count_rows(db, "experiments"),
            await count_rows(db, "conversions")) == (1, 1, 1)
    await db.delete_campaign(campaign.id)  # soft delete stays possible
    assert await db.get_campaign_by_id(campaign.id) is None

