"""The seed document's usage examples, end to end: user → asset → clips → scoring → top clips →
campaign → metrics → experiment → winner → prediction → actuals → conversions → date range →
transaction → aggregates → soft delete.

The steps are the demo's own (:data:`gatewaydb.app.demo.STEPS`), so what ``make demo`` shows is
what is tested; after each step, a check here reads the database back through the public
API and asserts what the seed document promises (and a little more).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gatewaydb import ConflictError, Database
from gatewaydb.app.demo import STEPS, Outcome, Walkthrough, walk
from gatewaydb.gateway.models import AssetStatus, CampaignStatus, ClipStatus, ExperimentStatus, Role

pytestmark = pytest.mark.anyio

Check = Callable[[Walkthrough, Outcome], Awaitable[None]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


@check("create user with API key")
async def _(w: Walkthrough, _: Outcome) -> None:
    user = await w.db.get_user_by_id(w.user.id)
    assert user is not None
    assert (user.email, user.name, user.role) == (w.email, "Enterprise User", Role.ENTERPRISE)
    assert user.has_api_key
    assert user.settings == {"notifications": True, "theme": "dark"}


@check("authenticate by API key")
async def _(w: Walkthrough, _: Outcome) -> None:
    user = await w.db.get_user_by_api_key(w.api_key)
    assert user is not None
    assert user.id == w.user.id
    assert await w.db.get_user_by_api_key(w.api_key + "x") is None


@check("update user settings")
async def _(w: Walkthrough, _: Outcome) -> None:
    user = await w.db.get_user_by_id(w.user.id)
    assert user is not None
    assert user.settings == {"notifications": True, "theme": "dark", "language": "es"}


@check("create asset")
async def _(w: Walkthrough, _: Outcome) -> None:
    asset = await w.db.get_asset_by_id(w.asset.id)
    assert asset is not None
    assert asset.user_id == w.user.id
    assert asset.status is AssetStatus.PENDING
    assert (asset.file_size, asset.duration, asset.width, asset.height) == (
        52_428_800, 120.5, 1920, 1080)


def _asset_status_is(status: AssetStatus) -> Check:
    async def check_status(w: Walkthrough, _: Outcome) -> None:
        asset = await w.db.get_asset_by_id(w.asset.id)
        assert asset is not None
        assert asset.status is status
    return check_status


for _status in (AssetStatus.PROCESSING, AssetStatus.READY):
    check(f"asset status -> {_status.value}")(_asset_status_is(_status))


@check("create clip")
async def _(w: Walkthrough, _: Outcome) -> None:
    clip = await w.db.get_clip_by_id(w.clip.id)
    assert clip is not None
    assert (clip.start_time, clip.end_time, clip.duration) == (0, 15, 15)
    assert clip.features == {"hasLogo": True, "hasFaces": 2, "emotion": "happy"}
    assert clip.has_text
    assert clip.has_speech
    assert clip.status is ClipStatus.PENDING
    assert clip.score is None


@check("bulk-create clips (COPY)")
async def _(w: Walkthrough, _: Outcome) -> None:
    clips = await w.db.list_clips(asset_id=w.asset.id)
    assert len(clips) == 8
    assert all(c.status is ClipStatus.PENDING for c in clips)


@check("score clips")
async def _(w: Walkthrough, _: Outcome) -> None:
    clip = await w.db.get_clip_by_id(w.clip.id)
    assert clip is not None
    assert (clip.score, clip.viral_score, clip.engagement_score, clip.rank) == (
        0.85, 0.75, 0.90, 1)
    clips = await w.db.list_clips(asset_id=w.asset.id)
    assert all(c.status is ClipStatus.SCORED for c in clips)
    by_rank = sorted(clips, key=lambda c: c.rank or 0)
    assert [c.rank for c in by_rank] == list(range(1, 9))
    assert [c.score for c in by_rank] == sorted((c.score or 0 for c in clips), reverse=True)


@check("top clips (score >= 0.7)")
async def _(w: Walkthrough, _: Outcome) -> None:
    scores = [c.score or 0 for c in w.top_clips]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= 0.7 for s in scores)
    everything = await w.db.list_clips(asset_id=w.asset.id)
    assert len(scores) == sum((c.score or 0) >= 0.7 for c in everything)
    assert w.top_clips[0].id == w.clip.id
    assert [c.id for c in await w.db.get_top_clips(w.asset.id, limit=2, min_score=0.7)] == [
        c.id for c in w.top_clips[:2]]


@check("create campaign")
async def _(w: Walkthrough, _: Outcome) -> None:
    campaign = await w.db.get_campaign_by_id(w.campaign.id)
    assert campaign is not None
    assert (campaign.name, campaign.budget, campaign.daily_budget, campaign.status) == (
        "Summer Sale 2025", Decimal("5000.00"), Decimal("200.00"), CampaignStatus.DRAFT)
    assert campaign.target_audience == {"age": [25, 45],
                                        "interests": ["technology", "business"]}
    assert campaign.start_date == datetime(2025, 6, 1, tzinfo=UTC)
    assert [c.id for c in await w.db.list_campaigns(w.user.id)] == [campaign.id]


@check('update metrics from "Meta"')
async def _(w: Walkthrough, _: Outcome) -> None:
    campaign = await w.db.get_campaign_by_id(w.campaign.id)
    assert campaign is not None
    assert (campaign.total_spend, campaign.total_impressions, campaign.total_clicks,
            campaign.total_conversions) == (Decimal("1250.50"), 125_000, 3_500, 175)


@check("create A/B experiment")
async def _(w: Walkthrough, _: Outcome) -> None:
    experiments = await w.db.list_experiments(w.campaign.id)
    assert [e.id for e in experiments] == [w.experiment.id]
    assert experiments[0].status is ExperimentStatus.RUNNING
    assert experiments[0].variants == [{"id": "a", "headline": "Buy Now"},
                                       {"id": "b", "headline": "Shop Today"}]


@check("winner 'variant-b' is refused")
async def _(w: Walkthrough, outcome: Outcome) -> None:
    experiment = await w.db.get_experiment_by_id(w.experiment.id)
    assert experiment is not None
    assert experiment.status is ExperimentStatus.RUNNING
    assert experiment.winner_variant_id is None
    assert experiment.completed_at is None
    assert "variant_id" in outcome.detail


@check("select winner 'b'")
async def _(w: Walkthrough, _: Outcome) -> None:
    experiment = await w.db.get_experiment_by_id(w.experiment.id)
    assert experiment is not None
    assert experiment.status is ExperimentStatus.COMPLETED
    assert (experiment.winner_variant_id, experiment.confidence) == ("b", 0.95)
    assert experiment.completed_at is not None
    with pytest.raises(ConflictError):  # a decision is final
        await w.db.select_experiment_winner(w.experiment.id, "a", 0.99)


@check("store prediction")
async def _(w: Walkthrough, _: Outcome) -> None:
    [prediction] = await w.db.list_predictions(w.clip.id)
    assert prediction.id == w.prediction.id
    assert (prediction.predicted_roas, prediction.predicted_ctr, prediction.predicted_cpc,
            prediction.confidence) == (2.5, 0.035, 0.75, 0.92)
    assert prediction.actual_roas is None


@check("prediction actuals")
async def _(w: Walkthrough, _: Outcome) -> None:
    prediction = await w.db.get_prediction_by_id(w.prediction.id)
    assert prediction is not None
    assert (prediction.actual_roas, prediction.actual_ctr, prediction.actual_cpc,
            prediction.prediction_error) == (2.8, 0.042, 0.68, 0.12)
    assert prediction.predicted_roas == 2.5  # untouched


@check("record conversions")
async def _(w: Walkthrough, _: Outcome) -> None:
    conversions = await w.db.list_conversions(w.campaign.id)
    assert len(conversions) == w.conversion_count == 6
    timestamps = [(c.timestamp, c.id) for c in conversions]
    assert timestamps == sorted(timestamps)
    [attributed] = [c for c in conversions if c.attributed_clip_id is not None]
    assert attributed.attributed_clip_id == w.clip.id
    assert attributed.value == Decimal("99.99")
    assert attributed.currency == "USD"


@check("redelivered conversion is not doubled")
async def _(w: Walkthrough, _: Outcome) -> None:
    conversions = await w.db.list_conversions(w.campaign.id)
    assert len(conversions) == w.conversion_count
    assert len({(c.source, c.external_id) for c in conversions}) == len(conversions)


@check("conversions in June 2025")
async def _(w: Walkthrough, outcome: Outcome) -> None:
    start, end = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    june = await w.db.list_conversions(w.campaign.id, start_date=start, end_date=end)
    everything = await w.db.list_conversions(w.campaign.id)
    assert [c.id for c in june] == [c.id for c in everything if start <= c.timestamp < end]
    assert len(june) == 3
    assert outcome.table is not None
    assert len(outcome.table.rows) == 3


@check("failing transaction rolls back")
async def _(w: Walkthrough, _: Outcome) -> None:
    assert await w.db.get_user_by_email(w.rolled_back_email) is None
    # Nothing of the transaction is left: no new user, no new campaign for anybody.
    assert {u.email for u in await w.db.list_users()} == {w.email}
    assert len(await w.db.list_campaigns(w.user.id)) == 1


@check("campaign aggregates")
async def _(w: Walkthrough, _: Outcome) -> None:
    stats = await w.db.campaign_stats(w.user.id)
    assert (stats.campaign_count, stats.total_spend_sum, stats.total_conversions_sum) == (
        1, Decimal("1250.50"), 175)
    assert stats.total_spend_avg == Decimal("1250.50")


@check("READY assets with clips >= 0.8")
async def _(w: Walkthrough, _: Outcome) -> None:
    [asset] = await w.db.list_assets(w.user.id, status=AssetStatus.READY, clips_min_score=0.8)
    assert asset.id == w.asset.id
    assert asset.user.email == w.email
    assert [c.score for c in asset.clips] == [0.85, 0.81]


@check("soft delete user")
async def _(w: Walkthrough, _: Outcome) -> None:
    assert await w.db.get_user_by_id(w.user.id) is None
    assert await w.db.get_user_by_email(w.email) is None
    assert w.user.id not in {u.id for u in await w.db.list_users()}


@check("deleted user's API key is refused")
async def _(w: Walkthrough, _: Outcome) -> None:
    assert await w.db.get_user_by_api_key(w.api_key) is None


@check("health")
async def _(w: Walkthrough, _: Outcome) -> None:
    report = await w.db.health()
    assert report.ok
    assert report.pending_migrations == []
    assert await w.db.health_check()


def test_every_step_has_a_check() -> None:
    assert sorted(name for name, _ in STEPS) == sorted(CHECKS)


async def test_the_seed_documents_walkthrough(db: Database) -> None:
    w = Walkthrough(db, tag="test")
    for name, step in STEPS:
        outcome = await step(w)
        await CHECKS[name](w, outcome)


async def test_the_walkthrough_runs_again_beside_earlier_runs(db: Database) -> None:
    seen: list[str] = []
    first = await walk(db, lambda r: seen.append(r.name))
    second = await walk(db)
    assert all(r.ok for r in first + second), [r.error for r in first + second if r.error]
    assert seen == [name for name, _ in STEPS]
    assert await db.list_users() == []  # both runs' users were soft-deleted
