"""Conversions: idempotent recording, half-open ranges, keyset pages, flat-memory streaming."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from helpers import assert_aware, count_rows, expect_invalid, no_live_campaign

from gatewaydb import Database, ForeignKeyError, InvalidInputError, NotFoundError
from gatewaydb.gateway.models import (
    Campaign,
    Clip,
    Conversion,
    ConversionCursor,
    ConversionSource,
    NewConversion,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 6, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


async def _generate(db: Database, campaign_id: UUID, n: int, start: datetime,
                    step: timedelta) -> None:
    """``n`` conversions at ``start``, ``start + step``, ... in one statement."""
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO conversions (campaign_id, source, value, \"timestamp\") "
            "SELECT $1, 'META', 1, $2::timestamptz + (g - 1) * $3::interval "
            "FROM generate_series(1, $4::int) g", campaign_id, start, step, n)


# -- recording ------------------------------------------------------------------------------


async def test_create_reads_back_every_field_with_its_type(db: Database, campaign: Campaign,
                                                           clip: Clip) -> None:
    clip_id = clip.id  # the conftest clip belongs to the campaign's owner
    conversion = await db.create_conversion(
        campaign_id=str(campaign.id), source="META", external_id="meta_conv_789", value=99.99,
        currency="EUR", attributed_clip_id=str(clip_id), timestamp=T0)
    assert isinstance(conversion, Conversion)
    assert isinstance(conversion.id, UUID)
    assert conversion.campaign_id == campaign.id
    assert conversion.source is ConversionSource.META
    assert conversion.external_id == "meta_conv_789"
    assert conversion.value == Decimal("99.99")
    assert isinstance(conversion.value, Decimal)
    assert conversion.currency == "EUR"
    assert conversion.attributed_clip_id == clip_id
    assert conversion.timestamp == T0
    assert_aware(conversion.timestamp, conversion.created_at, conversion.updated_at)
    assert conversion.cursor == ConversionCursor(T0, conversion.id)
    assert await db.list_conversions(campaign.id) == [conversion]


async def test_defaults_and_input_model(db: Database, campaign: Campaign) -> None:
    conversion = await db.create_conversion(NewConversion(
        campaign_id=campaign.id, source=ConversionSource.MANUAL, value=Decimal(5),
        timestamp=T0))
    assert (conversion.currency, conversion.external_id, conversion.attributed_clip_id) == (
        "USD", None, None)


async def test_a_redelivery_returns_the_stored_row_and_writes_nothing(
        db: Database, campaign: Campaign) -> None:
    first = await db.create_conversion(campaign.id, "META", 10, T0, external_id="evt_1")
    again = await db.create_conversion(campaign.id, "META", 10, T0, external_id="evt_1")
    # Differing fields do not overwrite: the first delivery wins.
    changed = await db.create_conversion(campaign.id, "META", 99, T0 + MICRO,
                                         external_id="evt_1", currency="EUR")
    assert again == first
    assert changed == first
    assert await count_rows(db, "conversions") == 1


async def test_dedup_is_per_source_and_needs_an_external_id(db: Database,
                                                            campaign: Campaign) -> None:
    meta = await db.create_conversion(campaign.id, "META", 1, T0, external_id="evt_1")
    google = await db.create_conversion(campaign.id, "GOOGLE", 1, T0, external_id="evt_1")
    anonymous = [await db.create_conversion(campaign.id, "MANUAL", 1, T0) for _ in range(2)]
    assert len({meta.id, google.id, anonymous[0].id, anonymous[1].id}) == 4
    assert await count_rows(db, "conversions") == 4


async def test_concurrent_redeliveries_store_one_row(database_url: str) -> None:
    async with Database(database_url, connection_limit=10) as db:
        user = await db.create_user(email="race@example.com")
        campaign = await db.create_campaign(user.id, "Race", "SALES", 1)
        results: list[Conversion] = []

        async def deliver() -> None:
            results.append(await db.create_conversion(campaign.id, "META", "12.34", T0,
                                                      external_id="evt_race"))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(deliver)
        assert await count_rows(db, "conversions") == 1
    assert len(results) == 20
    assert all(r == results[0] for r in results)


async def _wait_until_blocked(db: Database) -> None:
    """Return once some other session of this database waits for a row lock."""
    async with db.acquire() as conn:
        with anyio.fail_after(10):
            # Server state, not a Python event: polling is the only way to observe it.
            while not await conn.fetchval(  # noqa: ASYNC110
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"):
                await anyio.sleep(0.01)


async def test_redelivery_racing_an_uncommitted_insert_gets_its_row(
        db: Database, campaign: Campaign) -> None:
    # The redelivery's INSERT waits for the first one's transaction; when that commits,
    # its ON CONFLICT skips the row, and its SELECT runs on a snapshot taken before the
    # commit: the statement returns nothing, and create_conversion must run it again.
    redelivered: list[Conversion] = []

    async def redeliver() -> None:
        redelivered.append(await db.create_conversion(campaign.id, "META", 1, T0,
                                                      external_id="evt_slow"))

    async with anyio.create_task_group() as group, db.transaction() as tx:
        first = await tx.create_conversion(campaign.id, "META", 1, T0, external_id="evt_slow")
        group.start_soon(redeliver)
        await _wait_until_blocked(db)
    # Exit order: the transaction (entered last) commits, then the group awaits redeliver.
    assert redelivered == [first]
    assert db.stats().statements["create_conversion"].count == 3  # 1 + the retried pair
    assert await count_rows(db, "conversions") == 1


_GOOD: dict[str, Any] = {"source": "META", "value": "1.00", "timestamp": T0}


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"timestamp": datetime(2025, 6, 1)}, "timestamp", id="naive-timestamp"),
    pytest.param({"timestamp": "yesterday"}, "timestamp", id="timestamp-not-a-date"),
    pytest.param({"value": -1}, "value", id="negative-value"),
    pytest.param({"value": "0.001"}, "value", id="value-sub-cent"),
    pytest.param({"currency": "usd"}, "currency", id="currency-lower-case"),
    pytest.param({"currency": "US"}, "currency", id="currency-two-letters"),
    pytest.param({"currency": "USDT"}, "currency", id="currency-four-letters"),
    pytest.param({"source": "BING"}, "source", id="unknown-source"),
    pytest.param({"external_id": ""}, "external_id", id="empty-external-id"),
    pytest.param({"attributed_clip_id": "clip-1"}, "attributed_clip_id", id="bad-clip-id"),
    pytest.param({"campaign_id": "nope"}, "campaign_id", id="bad-campaign-id"),
])
async def test_bad_input_is_refused_by_field_and_writes_nothing(
        db: Database, campaign: Campaign, change: dict[str, Any], field: str) -> None:
    await expect_invalid(
        db.create_conversion(**{"campaign_id": campaign.id, **_GOOD, **change}), field)
    assert await count_rows(db, "conversions") == 0


@pytest.mark.parametrize("state", ["missing", "soft-deleted"])
async def test_create_needs_a_live_campaign(db: Database, campaign: Campaign,
                                            state: str) -> None:
    campaign_id = await no_live_campaign(db, campaign, state)
    with pytest.raises(NotFoundError) as caught:
        await db.create_conversion(campaign_id, "META", 1, T0, external_id="evt")
    assert caught.value.entity == "campaign"
    assert await count_rows(db, "conversions") == 0


async def test_an_unknown_clip_is_a_foreign_key_error(db: Database,
                                                      campaign: Campaign) -> None:
    with pytest.raises(ForeignKeyError):
        await db.create_conversion(campaign.id, "META", 1, T0, attributed_clip_id=uuid4())
    assert await count_rows(db, "conversions") == 0


# -- listing --------------------------------------------------------------------------------


async def test_ranges_are_half_open(db: Database, campaign: Campaign) -> None:
    end = T0 + timedelta(days=1)
    stamps = [T0 - MICRO, T0, T0 + MICRO, end - MICRO, end, end + MICRO]
    for stamp in stamps:
        await db.create_conversion(campaign.id, "MANUAL", 1, stamp)
    day = await db.list_conversions(campaign.id, T0, end)
    assert [c.timestamp for c in day] == [T0, T0 + MICRO, end - MICRO]
    before = await db.list_conversions(campaign.id, end_date=T0)
    after = await db.list_conversions(campaign.id, start_date=end)
    assert [c.timestamp for c in before + day + after] == stamps  # each exactly once
    assert await db.list_conversions(campaign.id, T0, T0) == []


async def test_pages_cover_a_range_once_including_equal_timestamps(
        db: Database, campaign: Campaign) -> None:
    # 5 timestamps x 5 rows each: pages of 4 split every group of equal timestamps.
    for i in range(5):
        await _generate(db, campaign.id, 5, T0 + timedelta(hours=i), timedelta(0))
    whole = await db.list_conversions(campaign.id, T0, T0 + timedelta(days=1))
    assert [(c.timestamp, c.id) for c in whole] == sorted((c.timestamp, c.id) for c in whole)
    paged: list[Conversion] = []
    after: Conversion | ConversionCursor | None = None
    while page := await db.list_conversions(campaign.id, T0, T0 + timedelta(days=1),
                                            take=4, after=after):
        assert len(page) <= 4
        paged += page
        # Either form of cursor works: the row itself, or its (timestamp, id).
        after = page[-1] if len(paged) % 8 else page[-1].cursor
    assert len(paged) == 25
    assert paged == whole


async def test_a_cursor_outside_the_range_keeps_both_bounds(db: Database,
                                                          campaign: Campaign) -> None:
    # A cursor before start_date is implied by it, one after it implies it: either way the
    # page is what both conditions together select.
    await _generate(db, campaign.id, 10, T0, timedelta(hours=1))
    whole = await db.list_conversions(campaign.id)
    start, end = whole[3].timestamp, whole[8].timestamp
    early = await db.list_conversions(campaign.id, start, end, after=whole[1])
    assert early == whole[3:8]
    late = await db.list_conversions(campaign.id, start, end, after=whole[5].cursor)
    assert late == whole[6:8]
    unbounded = await db.list_conversions(campaign.id, after=whole[5], take=2)
    assert unbounded == whole[6:8]
    assert await db.list_conversions(campaign.id, start, end, after=whole[9]) == []


async def test_list_is_one_live_campaigns(db: Database, campaign: Campaign) -> None:
    other = await db.create_campaign(campaign.user_id, "Other", "SALES", 1)
    await db.create_conversion(other.id, "META", 1, T0)
    mine = await db.create_conversion(campaign.id, "META", 1, T0)
    assert await db.list_conversions(campaign.id) == [mine]
    await db.delete_campaign(campaign.id)
    assert await db.list_conversions(campaign.id) == []
    assert [c async for c in db.iter_conversions(campaign.id)] == []
    assert await db.list_conversions(uuid4()) == []


@pytest.mark.parametrize(("kwargs", "field"), [
    pytest.param({"start_date": datetime(2025, 6, 1)}, "start_date", id="naive-start"),
    pytest.param({"end_date": datetime(2025, 6, 2)}, "end_date", id="naive-end"),
    pytest.param({"start_date": T0, "end_date": T0 - MICRO}, "end_date", id="end-before-start"),
    pytest.param({"start_date": "2025-06-01"}, "start_date", id="start-as-text"),
    pytest.param({"take": 0}, "take", id="take-zero"),
    pytest.param({"take": 10_001}, "take", id="take-too-big"),
    pytest.param({"take": True}, "take", id="take-bool"),
    pytest.param({"after": "cursor"}, "after", id="after-text"),
    pytest.param({"after": (datetime(2025, 6, 1), uuid4())}, "after.timestamp",
                 id="after-naive"),
    pytest.param({"after": (T0, "x")}, "after.id", id="after-bad-id"),
    pytest.param({"after": (None, uuid4())}, "after.timestamp", id="after-no-timestamp"),
    pytest.param({"campaign_id": "nope"}, "campaign_id", id="bad-campaign-id"),
])
async def test_list_refuses_bad_arguments(db: Database, campaign: Campaign,
                                          kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await db.list_conversions(**{"campaign_id": campaign.id, **kwargs})
    assert caught.value.fields == (field,)


# -- streaming ------------------------------------------------------------------------------


async def test_iter_matches_list_across_chunks(db: Database, campaign: Campaign) -> None:
    await _generate(db, campaign.id, 250, T0, timedelta(minutes=1))
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=210)
    streamed = [c async for c in db.iter_conversions(str(campaign.id), start, end,
                                                     chunk_size=7)]
    assert len(streamed) == 200
    assert streamed == await db.list_conversions(campaign.id, start, end)


async def test_iter_inside_a_transaction_sees_its_writes(db: Database,
                                                         campaign: Campaign) -> None:
    async with db.transaction() as tx:
        mine = await tx.create_conversion(campaign.id, "META", 1, T0)
        assert [c async for c in tx.iter_conversions(campaign.id)] == [mine]


@pytest.mark.parametrize(("kwargs", "field"), [
    pytest.param({"chunk_size": 0}, "chunk_size", id="chunk-zero"),
    pytest.param({"chunk_size": 100_001}, "chunk_size", id="chunk-too-big"),
    pytest.param({"start_date": T0, "end_date": T0 - MICRO}, "end_date", id="end-before-start"),
    pytest.param({"end_date": datetime(2025, 6, 2)}, "end_date", id="naive-end"),
])
async def test_iter_refuses_bad_arguments(db: Database, campaign: Campaign,
                                          kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        async for _ in db.iter_conversions(campaign.id, **kwargs):
            pass
    assert caught.value.fields == (field,)


@pytest.mark.slow
async def test_iter_streams_100k_rows_in_flat_memory(db: Database, campaign: Campaign) -> None:
    n = 100_000
    await _generate(db, campaign.id, n, T0, timedelta(seconds=1))
    count, total, last = 0, Decimal(0), None
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        async for conversion in db.iter_conversions(campaign.id, chunk_size=1000):
            count += 1
            total += conversion.value
            assert last is None or conversion.cursor > last
            last = conversion.cursor
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (count, total) == (n, Decimal(n))
    # 100k Conversion models held at once take well over 100 MB; one chunk of 1,000 a few.
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
