"""The hot paths: each one a (gatewaydb call, floor call) pair over the same arguments.

A row of :data:`HOT_PATHS` says how to pick one sample's arguments from the data set
(:class:`bench.dataset.Scale`), how gatewaydb's public API serves them, and how the floor runs
the same statement with the same ``$n`` parameters. ``rows`` counts what a call returned, so
the harness can check that both sides did the same work before timing them.
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

from gatewaydb import Database
from gatewaydb.gateway.clips import _COPY_COLUMNS

from .dataset import WINDOW_DAYS, WINDOW_START, Scale, api_key, bench_id
from .floor import Floor

__all__ = ["CLIPS_PER_BATCH", "CLIP_COLUMNS", "HOT_PATHS", "ITER_CHUNK", "HotPath",
           "count_rows", "iter_case"]

#: Rows per ``create_clips`` call.
CLIPS_PER_BATCH: Final = 1000
#: Rows per round trip of ``iter_conversions``, passed to both sides (gatewaydb's default).
ITER_CHUNK: Final = 1000
#: create_clips' COPY columns, taken from gatewaydb so the floor's COPY cannot drift from it.
CLIP_COLUMNS: Final = _COPY_COLUMNS

TOP_CLIPS_LIMIT: Final = 10
TOP_CLIPS_MIN_SCORE: Final = 0.7
# list_assets' page and clips per asset (gatewaydb's defaults), passed to both sides.
ASSETS_TAKE: Final = 20
CLIPS_PER_ASSET: Final = 5

Pick = Callable[[random.Random, Scale], Any]
GatewayCall = Callable[[Database, Any], Awaitable[Any]]
FloorCall = Callable[[Floor, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class HotPath:
    """One hot path of the issue; ``name`` keys it in the JSON result."""

    name: str
    title: str
    pick: Pick
    gatewaydb: GatewayCall
    floor: FloorCall
    #: Also measure ops/s with many concurrent tasks.
    throughput: bool = False
    #: It adds clips to the scratch asset (deleted after the path is measured).
    writes: bool = False
    #: Caps the samples of a path whose every call costs much (time or written rows).
    max_samples: int | None = None


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


# --- The floor's side: the statement's $n order, as the domain code passes them ----------


def _clip_record(clip: dict[str, Any]) -> tuple[Any, ...]:
    # What gatewaydb's create_clip / create_clips send: duration defaults to end - start,
    # features to {}; the default pool's jsonb codec takes JSON text.
    return (clip["asset_id"], clip["start_time"], clip["end_time"],
            clip["end_time"] - clip["start_time"], json.dumps(clip.get("features") or {}),
            clip.get("has_text", False), clip.get("has_speech", False))


async def _floor_create_clips(f: Floor, clips: list[dict[str, Any]]) -> int:
    records = [_clip_record(clip) for clip in clips]
    # gatewaydb checks the assets are live first, then copies: the same two statements.
    await f.fetchval("live_asset_ids", list(dict.fromkeys(r[0] for r in records)))
    status = await f.copy("clips", CLIP_COLUMNS, records)
    return int(status.rsplit(" ", 1)[-1])


async def _gatewaydb_iter(db: Database, case: tuple[UUID, Any, Any]) -> int:
    count = 0
    async for _ in db.iter_conversions(*case, chunk_size=ITER_CHUNK):
        count += 1
    return count


async def _floor_iter(f: Floor, case: tuple[UUID, Any, Any]) -> int:
    count = 0
    async for _ in f.stream("iter_conversions", *case, chunk_size=ITER_CHUNK):
        count += 1
    return count


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


HOT_PATHS: Final[tuple[HotPath, ...]] = (
    HotPath(
        "auth", "auth by API key",
        lambda rng, s: api_key(rng.randint(1, s.users)),
        lambda db, key: db.get_user_by_api_key(key),
        lambda f, key: f.fetchrow("get_user_by_api_key", _digest(key)),
        throughput=True),
    HotPath(
        "top_clips", f"get_top_clips (limit {TOP_CLIPS_LIMIT}, min_score {TOP_CLIPS_MIN_SCORE})",
        _asset,
        lambda db, a: db.get_top_clips(a, limit=TOP_CLIPS_LIMIT, min_score=TOP_CLIPS_MIN_SCORE),
        lambda f, a: f.fetch("get_top_clips", a, TOP_CLIPS_MIN_SCORE, TOP_CLIPS_LIMIT),
        throughput=True),
    HotPath(
        "whale_day", "list_conversions: whale campaign, one day",
        _whale_day,
        lambda db, c: db.list_conversions(c[0], start_date=c[1], end_date=c[2]),
        lambda f, c: f.fetch("list_conversions", c[0], c[1], c[2], None, None, None)),
    HotPath(
        "campaign_month", "list_conversions: ordinary campaign, one month",
        _campaign_month,
        lambda db, c: db.list_conversions(c[0], start_date=c[1], end_date=c[2]),
        lambda f, c: f.fetch("list_conversions", c[0], c[1], c[2], None, None, None)),
    HotPath(
        "list_assets", "list_assets with clips, one user",
        _user,
        lambda db, u: db.list_assets(u, take=ASSETS_TAKE, clips_per_asset=CLIPS_PER_ASSET),
        lambda f, u: f.fetch("list_assets", u, None, 0, ASSETS_TAKE, None, CLIPS_PER_ASSET)),
    HotPath(
        "campaign_stats", "campaign_stats, one user",
        _user,
        lambda db, u: db.campaign_stats(u),
        lambda f, u: f.fetchrow("campaign_stats", u)),
    HotPath(
        "iter_conversions", "iter_conversions: whole whale campaign",
        lambda rng, s: iter_case(s),
        _gatewaydb_iter,
        _floor_iter,
        max_samples=25),
    HotPath(
        "create_clip", "create_clip",
        _new_clip,
        lambda db, c: db.create_clip(**c),
        lambda f, c: f.fetchrow("create_clip", *_clip_record(c)),
        writes=True),
    HotPath(
        "update_campaign_metrics", "update_campaign_metrics",
        _metrics,
        lambda db, m: db.update_campaign_metrics(m[0], total_spend=m[1], total_impressions=m[2],
                                                 total_clicks=m[3], total_conversions=m[4]),
        lambda f, m: f.fetchrow("update_campaign_metrics", *m)),
    HotPath(
        "create_clips", f"create_clips ({CLIPS_PER_BATCH:,} rows, COPY)",
        _clip_batch,
        lambda db, clips: db.create_clips(clips),
        _floor_create_clips,
        writes=True, max_samples=100),
)
