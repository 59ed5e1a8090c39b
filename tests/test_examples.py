"""examples/reports: a service's own statements (the seed's "Advanced Queries" and "Select
Only Needed Fields") next to the Gateway's, on one Database, on the pool and in a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from examples.reports import SQL_DIR, queries
from examples.reports.models import AssetWithBestClips, ScoredClip, UserSummary
from gatewaydb import Database
from gatewaydb.gateway.models import AssetStatus, User

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """conftest's ``db``, with the reporting service's statements added."""
    async with Database(database_url, sql_paths=[SQL_DIR], queries=[queries]) as database:
        yield database


async def _assets_with_scored_clips(db: Database, user: User) -> list[list[float]]:
    """Two READY assets and a PENDING one, each with clips scored as listed."""
    scores = [[0.95, 0.5, 0.85, 0.81, 0.9, 0.99, 0.82], [0.7], [0.9]]
    for number, clip_scores in enumerate(scores):
        asset = await db.create_asset(user.id, f"v{number}.mp4", f"gs://b/v{number}.mp4")
        await db.update_asset_status(asset.id, "READY" if number < 2 else "PENDING")
        for start, score in enumerate(clip_scores):
            clip = await db.create_clip(asset.id, start, start + 1)
            await db.update_clip_scoring(clip.id, score=score)
    return scores


async def test_assets_with_their_best_clips_and_owner_in_one_statement(
        db: Database, user: User) -> None:
    await _assets_with_scored_clips(db, user)
    before = db.stats().statements.get("ready_assets_with_best_clips")
    listed = await db.run(queries.ready_assets_with_best_clips(user.id))
    assert [a.filename for a in listed] == ["v1.mp4", "v0.mp4"]  # newest first
    newest, oldest = listed
    assert isinstance(oldest, AssetWithBestClips)
    assert (oldest.owner_name, oldest.owner_email) == ("Owner", "owner@example.com")
    assert [c.score for c in oldest.clips] == [0.99, 0.95, 0.9, 0.85, 0.82]  # >= 0.8, top 5
    assert all(isinstance(c, ScoredClip) for c in oldest.clips)
    assert newest.clips == []  # its only clip scores 0.7
    assert before is None
    assert db.stats().statements["ready_assets_with_best_clips"].count == 1
    pending = await db.run(queries.ready_assets_with_best_clips(
        user.id, status=AssetStatus.PENDING, min_score=0.0, take=1))
    assert [(a.filename, a.status, len(a.clips)) for a in pending] == [
        ("v2.mp4", AssetStatus.PENDING, 1)]


async def test_only_the_needed_fields(db: Database, user: User) -> None:
    await _assets_with_scored_clips(db, user)
    other = await db.create_user(email="second@example.com")
    summaries = await db.run(queries.user_summaries())
    assert summaries == [UserSummary(id=user.id, name="Owner", email="owner@example.com"),
                         UserSummary(id=other.id, name=None, email="second@example.com")]
    clips = await db.run(queries.clips_with_filenames(user.id, take=2))
    assert [(c.score, c.filename) for c in clips] == [(0.99, "v0.mp4"), (0.95, "v0.mp4")]
    assert len(await db.run(queries.clips_with_filenames(user.id))) == 9
    assert set(type(clips[0]).model_fields) == {"id", "score", "filename"}


async def test_revenue_by_day_values_and_commands_in_a_transaction(
        db: Database, user: User) -> None:
    campaign = await db.create_campaign(user.id, "Sale", "SALES", 100)
    day = datetime(2025, 6, 1, tzinfo=UTC)
    for hours, amount in [(1, "10.50"), (5, "4.50"), (30, "7.25")]:
        await db.create_conversion(campaign.id, "META", amount, day + timedelta(hours=hours))
    failed = await db.create_asset(user.id, "broken.mp4", "gs://b/broken.mp4")
    await db.update_asset_status(failed.id, "FAILED")
    async with db.transaction() as tx:  # the service's statements and the Gateway's, alike
        revenue = await tx.run(queries.campaign_revenue_by_day(
            campaign.id, day, day + timedelta(days=7)))
        assert await tx.run(queries.count_assets(user.id, AssetStatus.FAILED)) == 1
        assert await tx.run(queries.archive_failed_assets(user.id)) == "UPDATE 1"
        assert await tx.get_asset_by_id(failed.id) is None
    assert [(r.day, r.conversions, r.revenue) for r in revenue] == [
        (date(2025, 6, 1), 2, Decimal("15.00")), (date(2025, 6, 2), 1, Decimal("7.25"))]
    assert await db.run(queries.count_assets(user.id, AssetStatus.FAILED)) == 0
