"""``gatewaydb demo`` (``make demo``): the seed document's usage examples, run for real.

The walkthrough is a list of named steps (:data:`STEPS`), each an async function of a shared
:class:`Walkthrough` state: the demo prints what each step returns, and
``tests/test_walkthrough.py`` runs the same steps and checks the database after each one.

Re-runs: every row the walkthrough writes carries a per-run tag (emails, API key, platform
ids, conversion ids are all unique keys, and a soft-deleted user still holds its email and
key), so runs never collide with each other or with the seed data. The walkthrough ends by
soft-deleting its user, as the seed document does; a hard delete is not possible because
conversions are revenue records that refuse it (ON DELETE RESTRICT), so each run leaves its
few rows behind as soft-deleted history.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

import anyio

from ..core.errors import ConflictError, GatewayDBError, InvalidInputError
from ..gateway.database import Database
from ..gateway.models import (
    Asset,
    AssetStatus,
    Campaign,
    CampaignObjective,
    Clip,
    ConversionSource,
    Experiment,
    ExperimentStatus,
    NewClip,
    Prediction,
    Role,
    User,
)
from ._migration_commands import apply_with_progress
from ._output import (
    Progress,
    Table,
    format_duration,
    format_value,
    one_line,
    step_line,
    table_lines,
)
from ._target import open_target, relative
from .seed import ENTERPRISE_EMAIL, MODELS, seed, seed_users

__all__ = ["STEPS", "Outcome", "StepFailed", "StepResult", "Walkthrough", "run_demo", "walk"]

# June 2025 as [start, end): list_conversions includes its start and excludes its end.
_JUNE = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
# (day, source, value) of the conversions recorded besides the seed document's one (which is
# "now"): three in June, so the date-range query has something to find, two outside it.
_CONVERSIONS = ((datetime(2025, 6, 3, 9, 30, tzinfo=UTC), ConversionSource.META, "49.90"),
                (datetime(2025, 6, 12, 18, 5, tzinfo=UTC), ConversionSource.GOOGLE, "120.00"),
                (datetime(2025, 6, 28, 21, 40, tzinfo=UTC), ConversionSource.TIKTOK, "15.50"),
                (datetime(2025, 7, 4, 11, 0, tzinfo=UTC), ConversionSource.META, "75.25"),
                (datetime(2025, 5, 30, 8, 15, tzinfo=UTC), ConversionSource.GOOGLE, "33.00"))
# Scores for the bulk-created clips (the seed document's own clip scores 0.85, rank 1).
_BULK_SCORES = (0.81, 0.62, 0.78, 0.55, 0.74, 0.71, 0.40)


class StepFailed(Exception):
    """A step ran but the database did not do what the seed document says it does."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step shows: a line of ``key=value`` details and, optionally, a table."""

    detail: str = ""
    table: Table | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step as run: its name, how long its database calls took, and what it showed."""

    name: str
    seconds: float
    outcome: Outcome
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _kv(**values: Any) -> str:
    return "  ".join(f"{key}={format_value(v)}" for key, v in values.items())


def _flat(mapping: dict[str, Any]) -> str:
    return ",".join(f"{key}:{format_value(v)}" for key, v in mapping.items())


class Walkthrough:
    """The state the steps share: what earlier steps created, for later ones to use.

    Args:
        db: A connected database with every migration applied.
        tag: Makes this run's unique keys unique; default: the time plus random hex.
    """

    user: User
    asset: Asset
    clip: Clip
    top_clips: list[Clip]
    campaign: Campaign
    experiment: Experiment
    prediction: Prediction
    conversion_count: int
    rolled_back_email: str

    def __init__(self, db: Database, tag: str | None = None) -> None:
        self.db = db
        self.tag = tag or f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        self.email = f"enterprise+{self.tag}@example.com"
        self.api_key = f"ent_key_{self.tag}"


Step = Callable[[Walkthrough], Awaitable[Outcome]]
#: The walkthrough, in order: (name, step).
STEPS: list[tuple[str, Step]] = []


def _step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS.append((name, fn))
        return fn
    return register


@_step("create user with API key")
async def _create_user(w: Walkthrough) -> Outcome:
    w.user = await w.db.create_user(w.email, "Enterprise User", Role.ENTERPRISE,
                                    api_key=w.api_key,
                                    settings={"notifications": True, "theme": "dark"})
    return Outcome(_kv(user=w.user.email, role=w.user.role, api_key="stored as SHA-256"))


@_step("authenticate by API key")
async def _authenticate(w: Walkthrough) -> Outcome:
    found = await w.db.get_user_by_api_key(w.api_key)
    if found is None or found.id != w.user.id:
        raise StepFailed("the new user's API key did not authenticate")
    return Outcome(_kv(user=found.email, role=found.role))


@_step("update user settings")
async def _update_settings(w: Walkthrough) -> Outcome:
    # The seed merges by hand ({...user.settings, language}); settings= replaces the object.
    w.user = await w.db.update_user(w.user.id, settings={**w.user.settings, "language": "es"})
    return Outcome(_kv(settings=_flat(w.user.settings)))


@_step("create asset")
async def _create_asset(w: Walkthrough) -> Outcome:
    w.asset = await w.db.create_asset(
        w.user.id, "video_123.mp4", "gs://bucket/videos/video_123.mp4",
        original_name="My Video.mp4", mime_type="video/mp4", file_size=52_428_800,
        gcs_bucket="bucket", gcs_path="videos/video_123.mp4", duration=120.5,
        width=1920, height=1080)
    a = w.asset
    return Outcome(_kv(file=a.original_name, size=f"{(a.file_size or 0) / 2**20:.0f}MiB",
                       video=f"{a.width}x{a.height},{a.duration}s", status=a.status))


@_step("asset status -> PROCESSING")
async def _processing(w: Walkthrough) -> Outcome:
    before = w.asset.status
    w.asset = await w.db.update_asset_status(w.asset.id, AssetStatus.PROCESSING)
    return Outcome(_kv(status=f"{before.value}->{w.asset.status.value}"))


@_step("create clip")
async def _create_clip(w: Walkthrough) -> Outcome:
    w.clip = await w.db.create_clip(
        w.asset.id, 0, 15, duration=15,
        features={"hasLogo": True, "hasFaces": 2, "emotion": "happy"},
        has_text=True, has_speech=True)
    c = w.clip
    return Outcome(_kv(clip=c.id, span=f"{c.start_time:g}-{c.end_time:g}s",
                       features=_flat(c.features), status=c.status))


@_step("bulk-create clips (COPY)")
async def _bulk_clips(w: Walkthrough) -> Outcome:
    count = await w.db.create_clips(
        NewClip(asset_id=w.asset.id, start_time=15.0 * i, end_time=15.0 * (i + 1),
                duration=15.0, has_speech=i % 2 == 0)
        for i in range(1, len(_BULK_SCORES) + 1))
    return Outcome(_kv(clips=count, statement="one COPY"))


@_step("score clips")
async def _score(w: Walkthrough) -> Outcome:
    w.clip = await w.db.update_clip_scoring(w.clip.id, 0.85, viral_score=0.75,
                                            engagement_score=0.90, rank=1)
    others = [c for c in await w.db.list_clips(asset_id=w.asset.id) if c.id != w.clip.id]
    others.sort(key=lambda c: c.start_time)
    order = sorted(range(len(others)), key=lambda i: -_BULK_SCORES[i])
    for rank, i in enumerate(order, start=2):
        await w.db.update_clip_scoring(others[i].id, _BULK_SCORES[i], rank=rank)
    return Outcome(_kv(scored=len(others) + 1, best=w.clip.score, viral=w.clip.viral_score,
                       engagement=w.clip.engagement_score, rank=w.clip.rank))


@_step("top clips (score >= 0.7)")
async def _top_clips(w: Walkthrough) -> Outcome:
    w.top_clips = await w.db.get_top_clips(w.asset.id, limit=10, min_score=0.7)
    table = Table(("rank", "score", "span", "status"),
                  [(c.rank, c.score, f"{c.start_time:g}-{c.end_time:g}s", c.status)
                   for c in w.top_clips])
    return Outcome(_kv(clips=len(w.top_clips), of=len(_BULK_SCORES) + 1), table)


@_step("asset status -> READY")
async def _ready(w: Walkthrough) -> Outcome:
    w.asset = await w.db.update_asset_status(w.asset.id, AssetStatus.READY)
    return Outcome(_kv(status=w.asset.status))


@_step("create campaign")
async def _create_campaign(w: Walkthrough) -> Outcome:
    w.campaign = await w.db.create_campaign(
        w.user.id, "Summer Sale 2025", CampaignObjective.CONVERSIONS, Decimal(5000),
        daily_budget=Decimal(200), meta_campaign_id=f"meta_{w.tag}",
        target_audience={"age": [25, 45], "interests": ["technology", "business"]},
        start_date=_JUNE[0], end_date=datetime(2025, 8, 31, tzinfo=UTC))
    c = w.campaign
    return Outcome(_kv(name=c.name, budget=c.budget, daily=c.daily_budget, status=c.status,
                       dates=f"{format_value(c.start_date)}..{format_value(c.end_date)}"))


@_step('update metrics from "Meta"')
async def _metrics(w: Walkthrough) -> Outcome:
    w.campaign = await w.db.update_campaign_metrics(
        w.campaign.id, total_spend=Decimal("1250.50"), total_impressions=125_000,
        total_clicks=3_500, total_conversions=175)
    c = w.campaign
    return Outcome(_kv(spend=c.total_spend, impressions=c.total_impressions,
                       clicks=c.total_clicks, conversions=c.total_conversions,
                       ctr=f"{c.total_clicks / c.total_impressions:.2%}"))


@_step("create A/B experiment")
async def _experiment(w: Walkthrough) -> Outcome:
    w.experiment = await w.db.create_experiment(w.campaign.id, "Headline Test", [
        {"id": "a", "headline": "Buy Now"}, {"id": "b", "headline": "Shop Today"}])
    e = w.experiment
    return Outcome(_kv(name=e.name, variants=[v["id"] for v in e.variants], status=e.status))


@_step("winner 'variant-b' is refused")
async def _bad_winner(w: Walkthrough) -> Outcome:
    # The seed document names a variant id the experiment does not have.
    try:
        await w.db.select_experiment_winner(w.experiment.id, "variant-b", 0.95)
    except InvalidInputError as exc:
        reason = str(exc)
    else:
        raise StepFailed("an unknown variant id was accepted as the winner")
    after = await w.db.get_experiment_by_id(w.experiment.id)
    if after is None or after.status is not ExperimentStatus.RUNNING:
        raise StepFailed("the refused winner changed the experiment")
    return Outcome(f"InvalidInputError ({reason}); nothing written: status={after.status.value}")


@_step("select winner 'b'")
async def _winner(w: Walkthrough) -> Outcome:
    w.experiment = await w.db.select_experiment_winner(w.experiment.id, "b", 0.95)
    e = w.experiment
    return Outcome(_kv(winner=e.winner_variant_id, confidence=e.confidence, status=e.status))


@_step("store prediction")
async def _prediction(w: Walkthrough) -> Outcome:
    w.prediction = await w.db.create_prediction(
        w.clip.id, "v1.2.3", predicted_roas=2.5, predicted_ctr=0.035, predicted_cpc=0.75,
        features={"clipScore": 0.85, "duration": 15, "hasFaces": True}, confidence=0.92)
    p = w.prediction
    return Outcome(_kv(model=p.model_version, roas=p.predicted_roas, ctr=p.predicted_ctr,
                       cpc=p.predicted_cpc, confidence=p.confidence))


@_step("prediction actuals")
async def _actuals(w: Walkthrough) -> Outcome:
    w.prediction = await w.db.update_prediction_actuals(
        w.prediction.id, actual_roas=2.8, actual_ctr=0.042, actual_cpc=0.68,
        prediction_error=0.12)
    p = w.prediction
    return Outcome(_kv(roas=f"{p.predicted_roas}->{p.actual_roas}",
                       ctr=f"{p.predicted_ctr}->{p.actual_ctr}",
                       cpc=f"{p.predicted_cpc}->{p.actual_cpc}", error=p.prediction_error))


@_step("record conversions")
async def _conversions(w: Walkthrough) -> Outcome:
    await w.db.create_conversion(w.campaign.id, ConversionSource.META, Decimal("99.99"),
                                 datetime.now(UTC), external_id=f"meta_conv_{w.tag}",
                                 attributed_clip_id=w.clip.id)
    for i, (when, source, value) in enumerate(_CONVERSIONS):
        await w.db.create_conversion(w.campaign.id, source, Decimal(value), when,
                                     external_id=f"demo_{w.tag}_{i}")
    w.conversion_count = 1 + len(_CONVERSIONS)
    sources = sorted({ConversionSource.META.value, *(s.value for _, s, _ in _CONVERSIONS)})
    return Outcome(_kv(recorded=w.conversion_count, sources=sources))


@_step("redelivered conversion is not doubled")
async def _redelivered(w: Walkthrough) -> Outcome:
    # Platforms redeliver webhooks: (source, external_id) makes the second one a no-op.
    first = await w.db.create_conversion(w.campaign.id, ConversionSource.META, Decimal("99.99"),
                                         datetime.now(UTC), external_id=f"meta_conv_{w.tag}")
    rows = await w.db.list_conversions(w.campaign.id)
    if len(rows) != w.conversion_count:
        raise StepFailed(f"{len(rows)} conversions after a redelivery, not "
                         f"{w.conversion_count}")
    return Outcome(_kv(external_id=first.external_id, conversions=len(rows)))


@_step("conversions in June 2025")
async def _june(w: Walkthrough) -> Outcome:
    rows = await w.db.list_conversions(w.campaign.id, start_date=_JUNE[0], end_date=_JUNE[1])
    table = Table(("timestamp", "source", "value", "external id"),
                  [(c.timestamp, c.source, c.value, c.external_id) for c in rows])
    return Outcome(_kv(found=len(rows), total=w.conversion_count), table)


@_step("failing transaction rolls back")
async def _rollback(w: Walkthrough) -> Outcome:
    w.rolled_back_email = f"new+{w.tag}@example.com"
    try:
        async with w.db.transaction() as tx:
            user = await tx.create_user(w.rolled_back_email, "New User")
            await tx.create_asset(user.id, "video.mp4", "gs://bucket/videos/video.mp4")
            # The Meta campaign id is already linked to the walkthrough's campaign: the
            # unique index refuses it, and the user and asset above go with it.
            await tx.create_campaign(user.id, "Copy of Summer Sale",
                                     CampaignObjective.CONVERSIONS, Decimal(100),
                                     meta_campaign_id=w.campaign.meta_campaign_id)
    except ConflictError as exc:
        refused = exc.field
    else:
        raise StepFailed("the transaction committed")
    if await w.db.get_user_by_email(w.rolled_back_email) is not None:
        raise StepFailed("the rolled-back user exists")
    return Outcome(f"user + asset, then ConflictError on {refused} -> rolled back; "
                   f"{w.rolled_back_email} does not exist")


@_step("campaign aggregates")
async def _aggregates(w: Walkthrough) -> Outcome:
    s = await w.db.campaign_stats(w.user.id)
    return Outcome(_kv(campaigns=s.campaign_count, spend_sum=s.total_spend_sum,
                       spend_avg=s.total_spend_avg, conversions_sum=s.total_conversions_sum))


@_step("READY assets with clips >= 0.8")
async def _assets_with_clips(w: Walkthrough) -> Outcome:
    assets = await w.db.list_assets(w.user.id, status=AssetStatus.READY, clips_min_score=0.8,
                                    clips_per_asset=5)
    table = Table(("asset", "owner", "clip scores"),
                  [(a.original_name, a.user.email, [c.score for c in a.clips]) for a in assets])
    return Outcome(_kv(assets=len(assets)), table)


@_step("soft delete user")
async def _soft_delete(w: Walkthrough) -> Outcome:
    await w.db.delete_user(w.user.id)
    if await w.db.get_user_by_id(w.user.id) is not None:
        raise StepFailed("the soft-deleted user is still found")
    return Outcome(_kv(user=w.user.email, get_user_by_id="None"))


@_step("deleted user's API key is refused")
async def _key_refused(w: Walkthrough) -> Outcome:
    if await w.db.get_user_by_api_key(w.api_key) is not None:
        raise StepFailed("a soft-deleted user's API key still authenticates")
    return Outcome(_kv(get_user_by_api_key="None"))


@_step("health")
async def _health(w: Walkthrough) -> Outcome:
    h = await w.db.health()
    if not h.ok:
        raise StepFailed(f"unhealthy: {h.error}")
    pool = f"{h.pool.in_use}/{h.pool.size}" if h.pool else "-"
    return Outcome(_kv(ok=h.ok, server=h.server_version, ping=f"{h.latency_ms}ms",
                       pool_in_use=pool, pending_migrations=len(h.pending_migrations or [])))


async def walk(db: Database, on_step: Callable[[StepResult], None] | None = None,
               tag: str | None = None) -> list[StepResult]:
    """Run :data:`STEPS` in order, stopping at the first that fails.

    Args:
        db: A connected database with every migration applied.
        on_step: Called with each result as soon as its step ends.
        tag: See :class:`Walkthrough`.

    Returns:
        The results; the last one has ``error`` set if a step failed.
    """
    state = Walkthrough(db, tag)
    results: list[StepResult] = []
    for name, step in STEPS:
        began = time.perf_counter()
        try:
            outcome, error = await step(state), None
        except (GatewayDBError, StepFailed) as exc:
            outcome, error = Outcome(), f"{type(exc).__name__}: {one_line(exc)}"
        result = StepResult(name, time.perf_counter() - began, outcome, error)
        results.append(result)
        if on_step is not None:
            on_step(result)
        if error is not None:
            break
    return results


class _Printer:
    """Prints results as they come, so a slow step shows where the demo is."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, ok: bool, name: str, seconds: float | None, detail: str = "") -> None:
        self.line(step_line(self.out, ok, name, seconds, detail))

    def result(self, r: StepResult) -> None:
        self.step(r.ok, r.name, r.seconds, r.outcome.detail if r.ok else r.error or "")
        if r.outcome.table is not None and r.outcome.table.rows:
            for text in table_lines(r.outcome.table):
                self.line(text)


async def _seed_and_walk(url: str, shown: str, scale: int, p: _Printer) -> bool:
    began = time.perf_counter()
    async with Database(url) as db:
        p.step(True, "connect + contract check", time.perf_counter() - began, shown)
        began = time.perf_counter()
        users = len(seed_users(scale))
        with Progress("seeding users", users) as progress:
            report = await seed(db, scale, on_user=progress.advance)
        created = ", ".join(f"{report.created[m]} {m}" for m in MODELS if report.created[m])
        p.step(True, "seed sample data", time.perf_counter() - began,
               f"created {created}" if created else f"already seeded ({report.existing} users)")
        if report.api_key is not None:
            p.line(f"      {ENTERPRISE_EMAIL} API key (shown once): {report.api_key}")
        p.line()
        p.line("  The seed document's walkthrough:")
        results = await walk(db, p.result)
    p.line()
    total = sum(r.seconds for r in results)
    if results and results[-1].ok:
        p.line(f"  {len(results)} steps in {format_duration(total)}")
        return True
    return False


def run_demo(url: str | None, scale: int = 1, out: TextIO | None = None) -> int:
    """Migrate, seed and walk through the seed document on ``url`` (default: embedded).

    Returns:
        The exit status: 0 when every step did what the seed document says, else 1.

    Raises:
        GatewayDBError: the database could not be reached, migrated or seeded.
    """
    p = _Printer(out if out is not None else sys.stdout)
    p.line("gatewaydb demo: migrations, seed data and the seed document's walkthrough")
    p.line()

    def report(name: str, seconds: float, detail: str) -> None:
        p.step(True, name, seconds, detail)

    with open_target(url, report) as target:
        if target.data_dir is not None and not target.started:
            p.line(f"  - embedded PostgreSQL in {relative(target.data_dir)} is already running: "
                   "it stays running")
        began = time.perf_counter()
        applied = apply_with_progress(target.url)
        p.step(True, "migrate", time.perf_counter() - began,
               f"applied {', '.join(applied)}" if applied else "up to date")
        ok = anyio.run(_seed_and_walk, target.url, target.describe(), scale, p)
    return 0 if ok else 1

