"""The hot paths: gatewaydb's call and the floors' hand-written calls over the same arguments.

A row of :data:`HOT_PATHS` says how to pick one sample's arguments from the data set
(:class:`bench.dataset.Scale`), how gatewaydb's public API serves them, how a raw asyncpg user
gets the same result (:mod:`bench.handwritten`: records on either floor pool) and how the same
team would validate it into gatewaydb's models (``validated``). ``count_rows`` counts what a
call returned, so the harness can check that every side did the same work before timing it.
For the scans, ``server`` names the statements whose server-side time is measured.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel

from gatewaydb import Database
from gatewaydb.gateway.models import (
    AssetWithClips,
    Campaign,
    CampaignStats,
    Clip,
    Conversion,
    NewClip,
    User,
)

from . import handwritten as sql
from .dataset import WINDOW_DAYS, WINDOW_START, Scale, api_key, bench_id
from .floor import Floor
from .handwritten import validate_rows

__all__ = ["CLIPS_PER_BATCH", "HOT_PATHS", "ITER_CHUNK", "HotPath", "ServerCase",
           "count_rows", "iter_case"]

#: Rows per ``create_clips`` call.
CLIPS_PER_BATCH: Final = 1000
#: Rows per round trip of ``iter_conversions``, passed to both sides (gatewaydb's default).
ITER_CHUNK: Final = 1000

#: The issue's goals (ratios to the default-pool floor): single-row reads and writes, and
#: ops/s with 16 tasks on pools of 10 (the scans' own goals are on their rows below).
POINT_READ: Final = 0.75
THROUGHPUT: Final = 1.3

TOP_CLIPS_LIMIT: Final = 10
TOP_CLIPS_MIN_SCORE: Final = 0.7
# list_assets' page and clips per asset (gatewaydb's defaults), passed to both sides.
ASSETS_TAKE: Final = 20
CLIPS_PER_ASSET: Final = 5

Pick = Callable[[random.Random, Scale], Any]
GatewayCall = Callable[[Database, Any], Awaitable[Any]]
FloorCall = Callable[[Floor, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ServerCase:
    """A scan's two statements, for their server-side time: gatewaydb's (by registry name) and
    the floor's (hand-written), each with its ``$n`` arguments for one sample's case."""

    statement: str
    gatewaydb_args: Callable[[Any], tuple[Any, ...]]
    floor_sql: str
    floor_args: Callable[[Any], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class HotPath:
    """One hot path of the issue; ``name`` keys it in the JSON result.

    ``floor`` runs on both floor pools (with and without reset); ``validated`` on the default
    one, building the models gatewaydb returns with ``model_validate`` per row.
    """

    name: str
    title: str
    pick: Pick
    gatewaydb: GatewayCall
    floor: FloorCall
    validated: FloorCall
    server: ServerCase | None = None
    #: Also measure ops/s with many concurrent tasks.
    throughput: bool = False
    #: It adds clips to the scratch asset (deleted after the path is measured).
    writes: bool = False
    #: Caps the samples of a path whose every call costs much (time or written rows).
    max_samples: int | None = None
    #: The issue's goal: gatewaydb's median at most this times the (default-pool) floor's.
    target: float | None = None
    #: With ``throughput``: gatewaydb's ops/s at least this times the floor's.
    throughput_target: float | None = None


def count_rows(result: Any) -> int:
    """Rows in a result: a list's length, 1 for one row, 0 for None, an int as is."""
    if result is None:
        return 0
    if isinstance(result, int):
        return result
    if isinstance(result, list):
        return len(result)
    return 1


# --- Picking one sample's arguments ----------------------------------------------------


def _user(rng: random.Random, scale: Scale) -> UUID:
    return bench_id("user", rng.randint(1, scale.users))


def _asset(rng: random.Random, scale: Scale) -> UUID:
    return bench_id("asset", rng.randint(1, scale.assets))


def _campaign(rng: random.Random, scale: Scale) -> UUID:
    return bench_id("campaign", rng.randint(1, scale.campaigns))


def _whale_day(rng: random.Random, scale: Scale) -> tuple[UUID, datetime, datetime]:
    start = WINDOW_START + timedelta(days=rng.randrange(WINDOW_DAYS))
    return scale.whale_campaign, start, start + timedelta(days=1)


def _campaign_month(rng: random.Random, scale: Scale) -> tuple[UUID, datetime, datetime]:
    start = WINDOW_START + timedelta(days=30 * rng.randrange(WINDOW_DAYS // 30))
    return _campaign(rng, scale), start, start + timedelta(days=30)


def _new_clip(rng: random.Random, scale: Scale) -> dict[str, Any]:
    start = round(rng.uniform(0, 600), 3)
    return {"asset_id": scale.scratch_asset, "start_time": start,
            "end_time": start + round(rng.uniform(5, 30), 3),
            "features": {"faces": rng.randrange(4)}, "has_text": rng.random() < 0.3}


def _clip_batch(rng: random.Random, scale: Scale) -> list[dict[str, Any]]:
    return [_new_clip(rng, scale) for _ in range(CLIPS_PER_BATCH)]


def _metrics(rng: random.Random, scale: Scale) -> tuple[UUID, Decimal, int, int, int]:
    impressions = rng.randrange(1_000_000)
    return (_campaign(rng, scale), Decimal(rng.randrange(1_000_000)) / 100, impressions,
            impressions // 20, impressions // 1000)


def iter_case(scale: Scale, days: int | None = None) -> tuple[UUID, datetime | None,
                                                              datetime | None]:
    """The whale campaign's first ``days`` days, or its whole range (None)."""
    if days is None:
        return scale.whale_campaign, None, None
    return scale.whale_campaign, WINDOW_START, WINDOW_START + timedelta(days=days)


# --- The floors' side: hand-written SQL (bench.handwritten) ----------------------------


def _clip_record(clip: dict[str, Any]) -> tuple[Any, ...]:
    # What a raw asyncpg user sends: duration defaults to end - start, features to {}; the
    # default pool's jsonb codec takes JSON text.
    return (clip["asset_id"], clip["start_time"], clip["end_time"],
            clip["end_time"] - clip["start_time"], json.dumps(clip.get("features") or {}),
            clip.get("has_text", False), clip.get("has_speech", False))


async def _floor_create_clips(f: Floor, clips: list[dict[str, Any]]) -> int:
    return await f.copy("clips", sql.CLIP_COPY_COLUMNS, [_clip_record(c) for c in clips])


async def _validated_create_clips(f: Floor, clips: list[dict[str, Any]]) -> int:
    valid = [NewClip.model_validate(c) for c in clips]
    return await f.copy("clips", sql.CLIP_COPY_COLUMNS, [_clip_record(c.model_dump())
                                                         for c in valid])


async def _gatewaydb_iter(db: Database, case: tuple[UUID, Any, Any]) -> int:
    count = 0
    async for _ in db.iter_conversions(*case, chunk_size=ITER_CHUNK):
        count += 1
    return count


def _bounds(case: tuple[UUID, datetime | None, datetime | None]) -> tuple[Any, ...]:
    # The floor has no optional bounds: an unbounded side is the infinite timestamp.
    campaign, start, end = case
    return (campaign, start or _MINUS_INFINITY, end or _INFINITY)


async def _floor_iter(f: Floor, case: tuple[UUID, Any, Any]) -> int:
    count = 0
    async for _ in f.stream(sql.CONVERSIONS, *_bounds(case), chunk_size=ITER_CHUNK):
        count += 1
    return count


async def _validated_iter(f: Floor, case: tuple[UUID, Any, Any]) -> int:
    count = 0
    async for record in f.stream(sql.CONVERSIONS, *_bounds(case), chunk_size=ITER_CHUNK):
        Conversion.model_validate(dict(record))
        count += 1
    return count


async def _validated(query: Awaitable[Any], model: type[BaseModel], *json_columns: str) -> Any:
    return validate_rows(model, await query, json_columns)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


# asyncpg sends naive datetime.max / min as PostgreSQL's infinity / -infinity.
_INFINITY: Final = datetime.max
_MINUS_INFINITY: Final = datetime.min

_RANGE_SERVER = ServerCase("list_conversions", lambda c: (c[0], c[1], c[2], None),
                           sql.CONVERSIONS, lambda c: (c[0], c[1], c[2]))
_STREAM_SERVER = ServerCase("iter_conversions", lambda c: (c[0], c[1], c[2]),
                            sql.CONVERSIONS, _bounds)


HOT_PATHS: Final[tuple[HotPath, ...]] = (
    HotPath(
        "auth", "auth by API key",
        lambda rng, s: api_key(rng.randint(1, s.users)),
        lambda db, key: db.get_user_by_api_key(key),
        lambda f, key: f.fetchrow(sql.AUTH, _digest(key)),
        lambda f, key: _validated(f.fetchrow(sql.AUTH, _digest(key)), User, "settings"),
        throughput=True, target=POINT_READ, throughput_target=THROUGHPUT),
    HotPath(
        "top_clips", f"get_top_clips (limit {TOP_CLIPS_LIMIT}, min_score {TOP_CLIPS_MIN_SCORE})",
        _asset,
        lambda db, a: db.get_top_clips(a, limit=TOP_CLIPS_LIMIT, min_score=TOP_CLIPS_MIN_SCORE),
        lambda f, a: f.fetch(sql.TOP_CLIPS, a, TOP_CLIPS_MIN_SCORE, TOP_CLIPS_LIMIT),
        lambda f, a: _validated(f.fetch(sql.TOP_CLIPS, a, TOP_CLIPS_MIN_SCORE, TOP_CLIPS_LIMIT),
                                Clip, "features"),
        throughput=True, target=POINT_READ, throughput_target=THROUGHPUT),
    HotPath(
        "whale_day", "list_conversions: whale campaign, one day",
        _whale_day,
        lambda db, c: db.list_conversions(c[0], start_date=c[1], end_date=c[2]),
        lambda f, c: f.fetch(sql.CONVERSIONS, *c),
        lambda f, c: _validated(f.fetch(sql.CONVERSIONS, *c), Conversion),
        server=_RANGE_SERVER, target=1.15),
    HotPath(
        "campaign_month", "list_conversions: ordinary campaign, one month",
        _campaign_month,
        lambda db, c: db.list_conversions(c[0], start_date=c[1], end_date=c[2]),
        lambda f, c: f.fetch(sql.CONVERSIONS, *c),
        lambda f, c: _validated(f.fetch(sql.CONVERSIONS, *c), Conversion),
        server=_RANGE_SERVER, target=0.75),
    HotPath(
        "list_assets", "list_assets with clips, one user",
        _user,
        lambda db, u: db.list_assets(u, take=ASSETS_TAKE, clips_per_asset=CLIPS_PER_ASSET),
        lambda f, u: f.fetch(sql.ASSETS_WITH_CLIPS, u, ASSETS_TAKE, CLIPS_PER_ASSET),
        lambda f, u: _validated(f.fetch(sql.ASSETS_WITH_CLIPS, u, ASSETS_TAKE, CLIPS_PER_ASSET),
                                AssetWithClips, "clips", "user"),
        target=0.9),
    HotPath(
        "campaign_stats", "campaign_stats, one user",
        _user,
        lambda db, u: db.campaign_stats(u),
        lambda f, u: f.fetchrow(sql.CAMPAIGN_STATS, u),
        lambda f, u: _validated(f.fetchrow(sql.CAMPAIGN_STATS, u), CampaignStats),
        target=POINT_READ),
    HotPath(
        "iter_conversions", "iter_conversions: whole whale campaign",
        lambda rng, s: iter_case(s),
        _gatewaydb_iter,
        _floor_iter,
        _validated_iter,
        server=_STREAM_SERVER,
        max_samples=25, target=1.3),
    HotPath(
        "create_clip", "create_clip",
        _new_clip,
        lambda db, c: db.create_clip(**c),
        lambda f, c: f.fetchrow(sql.CREATE_CLIP, *_clip_record(c)),
        lambda f, c: _validated(f.fetchrow(sql.CREATE_CLIP, *_clip_record(
            NewClip.model_validate(c).model_dump())), Clip, "features"),
        writes=True, target=0.75),
    HotPath(
        "update_campaign_metrics", "update_campaign_metrics",
        _metrics,
        lambda db, m: db.update_campaign_metrics(m[0], total_spend=m[1], total_impressions=m[2],
                                                 total_clicks=m[3], total_conversions=m[4]),
        lambda f, m: f.fetchrow(sql.SET_METRICS, *m),
        lambda f, m: _validated(f.fetchrow(sql.SET_METRICS, *m), Campaign, "target_audience"),
        target=0.75),
    HotPath(
        "create_clips", f"create_clips ({CLIPS_PER_BATCH:,} rows, COPY)",
        _clip_batch,
        lambda db, clips: db.create_clips(clips),
        _floor_create_clips,
        _validated_create_clips,
        writes=True, max_samples=100, target=1.0),
)
