"""Realistic sample data across all seven models: ``gatewaydb seed [--scale N]``.

The data set is ``1 + 4 * scale`` users: ``enterprise@example.com`` (role ENTERPRISE, the
only one with an API key) and ``seed-user-<n>@example.com`` (one ADMIN, the rest USER).
Every user gets the same shape of data, so each status of each model appears:

- 5 assets, one per status and a second READY one; 8 scored clips per READY asset and 4
  unscored clips on the PROCESSING one;
- predictions for each READY asset's 3 best clips, two of them with actual results;
- 4 campaigns, one per status, with delivery metrics; conversions from several sources
  spread over the last three months on every campaign but the DRAFT one;
- a decided experiment (on the COMPLETED campaign) and a running one (on the ACTIVE one).

Idempotent: a user and all of its data are written in one transaction, so a user that
exists means its data exists too, and a second run adds nothing. Values come from a random
generator seeded with the user's email, so a run always writes the same values; only dates
are relative to today, so the data keeps looking recent.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final
from uuid import UUID

import anyio

from ..core.errors import ConflictError
from ..gateway.database import Database, Transaction
from ..gateway.models import (
    AssetStatus,
    CampaignObjective,
    CampaignStatus,
    Clip,
    ConversionSource,
    NewClip,
    Role,
)

__all__ = ["ENTERPRISE_EMAIL", "MODELS", "SeedReport", "seed", "seed_users"]

ENTERPRISE_EMAIL: Final = "enterprise@example.com"
#: Row counts in a :class:`SeedReport` are keyed by these names.
MODELS: Final = ("users", "assets", "clips", "predictions", "campaigns", "experiments",
                 "conversions")

_ASSET_STATUSES: Final = (AssetStatus.READY, AssetStatus.READY, AssetStatus.PROCESSING,
                          AssetStatus.PENDING, AssetStatus.FAILED)
_CLIPS_READY: Final = 8
_CLIPS_PROCESSING: Final = 4
_CLIP_LENGTH: Final = 15.0
_PREDICTED_CLIPS: Final = 3
# (status, objective, name, start relative to today in days): each campaign runs 100 days, and
# its dates put it where its status says it is (a DRAFT starts later, a COMPLETED one ended).
_CAMPAIGNS: Final = (
    (CampaignStatus.DRAFT, CampaignObjective.AWARENESS, "Autumn Teaser", 14),
    (CampaignStatus.ACTIVE, CampaignObjective.CONVERSIONS, "Summer Sale", -60),
    (CampaignStatus.PAUSED, CampaignObjective.TRAFFIC, "Blog Traffic", -80),
    (CampaignStatus.COMPLETED, CampaignObjective.SALES, "Spring Launch", -180),
)
_CAMPAIGN_DAYS: Final = 100
_CONVERSIONS_PER_CAMPAIGN: Final = 20
_WINDOW: Final = timedelta(days=90)
# Meta brings most conversions, manual entries the fewest.
_SOURCES: Final = (ConversionSource.META, ConversionSource.GOOGLE, ConversionSource.TIKTOK,
                   ConversionSource.MANUAL)
_SOURCE_WEIGHTS: Final = (50, 30, 15, 5)
_NAMES: Final = ("Ada Byron", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov",
                 "Ken Thompson", "Frances Allen", "Donald Knuth", "Radia Perlman", "John Backus")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SeedUser:
    """One user of the data set: who it is; its data follows from ``n``."""

    n: int
    email: str
    name: str
    role: Role


def seed_users(scale: int = 1) -> list[SeedUser]:
    """The users of the data set at ``scale``: the enterprise user, then the others."""
    users = [SeedUser(0, ENTERPRISE_EMAIL, "Enterprise User", Role.ENTERPRISE)]
    users += [SeedUser(n, f"seed-user-{n}@example.com", _NAMES[(n - 1) % len(_NAMES)],
                       Role.ADMIN if n == 1 else Role.USER)
              for n in range(1, 4 * scale + 1)]
    return users


@dataclass(slots=True)
class SeedReport:
    """What one run of :func:`seed` did.

    Attributes:
        created: Rows written, by model name (see :data:`MODELS`).
        existing: Users that were already there (their data was left alone).
        api_key: The enterprise user's API key when this run created that user, else None:
            the database keeps only its digest, so this is the only chance to see it.
    """

    created: Counter[str] = field(default_factory=Counter)
    existing: int = 0
    api_key: str | None = None


def _money(value: float) -> Decimal:
    return Decimal(value).quantize(_CENT)


async def _assets_and_clips(tx: Transaction, user_id: UUID, rng: random.Random,
                            n: int, counts: Counter[str]) -> list[Clip]:
    """The user's assets and clips; returns the scored clips, best first per asset."""
    scored: list[Clip] = []
    for k, status in enumerate(_ASSET_STATUSES):
        name = f"seed_{n}_{k}.mp4"
        asset = await tx.create_asset(
            user_id, name, f"gs://gateway-seed/videos/{name}",
            original_name=f"{rng.choice(('Product demo', 'Interview', 'Unboxing'))} {k + 1}.mp4",
            mime_type="video/mp4", file_size=rng.randrange(5_000_000, 500_000_000),
            gcs_bucket="gateway-seed", gcs_path=f"videos/{name}",
            duration=round(rng.uniform(130, 300), 1), width=1920, height=1080)
        counts["assets"] += 1
        if status is not AssetStatus.PENDING:
            await tx.update_asset_status(asset.id, status)
        clip_count = {AssetStatus.READY: _CLIPS_READY,
                      AssetStatus.PROCESSING: _CLIPS_PROCESSING}.get(status, 0)
        if not clip_count:
            continue
        # One COPY for the asset's clips, then read them back for their ids.
        counts["clips"] += await tx.create_clips(
            NewClip(asset_id=asset.id, start_time=i * _CLIP_LENGTH,
                    end_time=(i + 1) * _CLIP_LENGTH, duration=_CLIP_LENGTH,
                    features={"hasLogo": rng.random() < 0.4, "hasFaces": rng.randrange(4),
                              "emotion": rng.choice(("happy", "calm", "excited"))},
                    has_text=rng.random() < 0.5, has_speech=rng.random() < 0.7)
            for i in range(clip_count))
        if status is not AssetStatus.READY:
            continue  # clips of an asset still processing are not scored yet
        clips = sorted(await tx.list_clips(asset_id=asset.id, take=100),
                       key=lambda c: c.start_time)
        scores = [round(rng.uniform(0.35, 0.98), 3) for _ in clips]
        ranked = sorted(range(len(clips)), key=lambda i: -scores[i])
        best: list[Clip] = []
        for rank, i in enumerate(ranked, start=1):
            best.append(await tx.update_clip_scoring(
                clips[i].id, scores[i], viral_score=round(rng.uniform(0.2, 0.95), 3),
                engagement_score=round(rng.uniform(0.3, 0.99), 3), rank=rank))
        scored += best
    return scored


async def _predictions(tx: Transaction, scored: list[Clip], rng: random.Random,
                       counts: Counter[str]) -> None:
    """Predictions for each READY asset's best clips; all but the last have actuals."""
    by_asset: dict[UUID, list[Clip]] = {}
    for clip in scored:
        by_asset.setdefault(clip.asset_id, []).append(clip)
    for clips in by_asset.values():
        for i, clip in enumerate(clips[:_PREDICTED_CLIPS]):
            roas = round(rng.uniform(1.2, 4.0), 2)
            prediction = await tx.create_prediction(
                clip.id, "v1.2.3", predicted_roas=roas,
                predicted_ctr=round(rng.uniform(0.01, 0.06), 4),
                predicted_cpc=round(rng.uniform(0.3, 1.5), 2),
                features={"clipScore": clip.score, "duration": clip.duration},
                confidence=round(rng.uniform(0.7, 0.97), 2))
            counts["predictions"] += 1
            if i < _PREDICTED_CLIPS - 1:
                actual = round(roas * rng.uniform(0.8, 1.2), 2)
                await tx.update_prediction_actuals(
                    prediction.id, actual_roas=actual,
                    actual_ctr=round(rng.uniform(0.01, 0.06), 4),
                    actual_cpc=round(rng.uniform(0.3, 1.5), 2),
                    prediction_error=round(abs(actual - roas) / roas, 4))


async def _campaigns(tx: Transaction, user: SeedUser, user_id: UUID, scored: list[Clip],
                     rng: random.Random, today: datetime, counts: Counter[str]) -> None:
    """A campaign per status, with conversions, metrics and the two experiments."""
    for k, (status, objective, title, offset) in enumerate(_CAMPAIGNS):
        start = today + timedelta(days=offset)
        end = start + timedelta(days=_CAMPAIGN_DAYS)
        platform_id = f"seed-{user.n}-{k}"
        campaign = await tx.create_campaign(
            user_id, f"{title} {today.year}", objective, _money(rng.uniform(2_000, 20_000)),
            daily_budget=_money(rng.uniform(50, 400)),
            meta_campaign_id=platform_id if k % 2 == 0 else None,
            google_campaign_id=platform_id if k % 2 else None,
            target_audience={"age": [25, 45], "interests": rng.sample(
                ["technology", "business", "fitness", "travel", "food"], 2)},
            start_date=start, end_date=end, status=status)
        counts["campaigns"] += 1
        if status is CampaignStatus.DRAFT:
            continue
        first, last = max(start, today - _WINDOW), min(end, today)
        spend = Decimal(0)
        for j in range(_CONVERSIONS_PER_CAMPAIGN):
            value = _money(rng.uniform(10, 250))
            spend += value / Decimal("2.5")
            await tx.create_conversion(
                campaign.id, rng.choices(_SOURCES, _SOURCE_WEIGHTS)[0], value,
                first + (last - first) * rng.random(), external_id=f"seed-{user.n}-{k}-{j}",
                attributed_clip_id=rng.choice(scored).id if scored and rng.random() < 0.7
                else None)
            counts["conversions"] += 1
        clicks = _CONVERSIONS_PER_CAMPAIGN * rng.randrange(15, 40)
        await tx.update_campaign_metrics(
            campaign.id, total_spend=spend.quantize(_CENT),
            total_impressions=clicks * rng.randrange(25, 60), total_clicks=clicks,
            total_conversions=_CONVERSIONS_PER_CAMPAIGN)
        if status is CampaignStatus.ACTIVE:
            await tx.create_experiment(campaign.id, "Headline Test", [
                {"id": "a", "headline": "Buy Now"}, {"id": "b", "headline": "Shop Today"}])
            counts["experiments"] += 1
        elif status is CampaignStatus.COMPLETED:
            experiment = await tx.create_experiment(campaign.id, "Thumbnail Test", [
                {"id": "a", "thumbnail": "face"}, {"id": "b", "thumbnail": "product"},
                {"id": "c", "thumbnail": "text"}])
            await tx.select_experiment_winner(experiment.id, "b", 0.95)
            counts["experiments"] += 1


async def _seed_user(db: Database, user: SeedUser, today: datetime, report: SeedReport) -> None:
    if await db.get_user_by_email(user.email) is not None:
        report.existing += 1
        return
    rng = random.Random(f"gatewaydb-seed:{user.email}")
    counts: Counter[str] = Counter()
    key: str | None = None
    try:
        async with db.transaction() as tx:
            created = await tx.create_user(
                user.email, user.name, user.role,
                settings={"notifications": rng.random() < 0.8,
                          "theme": rng.choice(("dark", "light")),
                          "language": rng.choice(("en", "es", "de", "fr"))})
            counts["users"] += 1
            if user.role is Role.ENTERPRISE:
                key = await tx.rotate_api_key(created.id)
            scored = await _assets_and_clips(tx, created.id, rng, user.n, counts)
            await _predictions(tx, scored, rng, counts)
            await _campaigns(tx, user, created.id, scored, rng, today, counts)
    except ConflictError as exc:
        if exc.field != "email":
            raise
        # A concurrent seed run created the user first, or it exists soft-deleted: either way
        # it is not ours to fill, and this transaction wrote nothing.
        report.existing += 1
        return
    report.created.update(counts)
    if key is not None:
        report.api_key = key


async def seed(db: Database, scale: int = 1, *, concurrency: int = 4,
               on_user: Callable[[], None] | None = None) -> SeedReport:
    """Write the sample data set at ``scale``, skipping users that already exist.

    Args:
        db: A connected database with every migration applied.
        scale: Multiplies the users (``1 + 4 * scale``); at least 1.
        concurrency: Users written at once, each in its own transaction and connection.
        on_user: Called after each user is done (or skipped), e.g. to advance a progress bar.

    Returns:
        What was created; ``api_key`` is the enterprise user's key if this run made it.

    Raises:
        ValueError: ``scale`` or ``concurrency`` below 1.
        GatewayDBError: a write failed; users finished before it stay (each is complete).
    """
    if scale < 1 or concurrency < 1:
        raise ValueError("scale and concurrency must be at least 1")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    report = SeedReport()
    limiter = anyio.CapacityLimiter(min(concurrency, db.settings.connection_limit))

    async def one(user: SeedUser) -> None:
        async with limiter:
            await _seed_user(db, user, today, report)
        if on_user is not None:
            on_user()

    try:
        async with anyio.create_task_group() as group:
            for user in seed_users(scale):
                group.start_soon(one, user)
    except BaseExceptionGroup as failed:
        # The first user to fail cancelled the others; callers expect that failure itself
        # (a GatewayDBError, say), not a group around it.
        raise _first(failed) from failed
    return report


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
