"""Clips: create one or many (COPY), scoring, top clips (hot path), list, delete."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from helpers import (
    add_attributed_conversion,
    assert_aware,
    attributed_clip_of,
    count_rows,
    expect_invalid,
    statements_run,
)

from gatewaydb import Database, InvalidInputError, NotFoundError, Transaction
from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir
from gatewaydb.gateway.models import Asset, Clip, ClipScoring, ClipStatus, NewClip

pytestmark = pytest.mark.anyio


async def _scored(db: Database, asset: Asset, *scores: float | None) -> list[Clip]:
    """One clip per score, in order; None leaves the clip unscored."""
    clips = []
    for n, score in enumerate(scores):
        clip = await db.create_clip(asset.id, n, n + 1)
        clips.append(clip if score is None else await db.update_clip_scoring(clip.id, score))
    return clips


# -- create_clip / get -------------------------------------------------------------------


async def test_create_reads_back_every_field_with_its_type(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(asset_id=str(asset.id), start_time=1.5, end_time=16.5,
                                duration=15.0, features={"hasLogo": True, "faces": 2},
                                has_text=True, has_speech=True)
    assert isinstance(clip, Clip)
    assert isinstance(clip.id, UUID)
    assert clip.asset_id == asset.id
    assert (clip.start_time, clip.end_time, clip.duration) == (1.5, 16.5, 15.0)
    assert all(isinstance(v, float) for v in (clip.start_time, clip.end_time, clip.duration))
    assert clip.features == {"hasLogo": True, "faces": 2}
    assert (clip.has_text, clip.has_speech) == (True, True)
    assert (clip.score, clip.viral_score, clip.engagement_score, clip.rank) == (None,) * 4
    assert clip.status is ClipStatus.PENDING
    assert_aware(clip.created_at, clip.updated_at)
    assert clip.deleted_at is None
    assert await db.get_clip_by_id(clip.id) == clip
    assert await db.get_clip_by_id(str(clip.id)) == clip


async def test_defaults_duration_is_end_minus_start(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(asset.id, 2.5, 10)
    assert (clip.duration, clip.features, clip.has_text, clip.has_speech) == (7.5, {}, False,
                                                                              False)


async def test_an_input_model_is_accepted(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(NewClip(asset_id=asset.id, start_time=0, end_time=3))
    assert (clip.start_time, clip.end_time, clip.duration) == (0.0, 3.0, 3.0)


async def test_get_returns_none_for_missing_and_soft_deleted(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(asset.id, 0, 1)
    await db.delete_clip(clip.id)
    assert await db.get_clip_by_id(clip.id) is None
    assert await db.get_clip_by_id(uuid4()) is None


@pytest.mark.parametrize("soft_deleted", [False, True], ids=["missing-asset", "deleted-asset"])
async def test_create_for_a_missing_or_soft_deleted_asset_is_not_found(
        db: Database, asset: Asset, soft_deleted: bool) -> None:
    target = asset.id if soft_deleted else uuid4()
    if soft_deleted:
        await db.delete_asset(asset.id)
    with pytest.raises(NotFoundError) as caught:
        await db.create_clip(target, 0, 1)
    assert (caught.value.entity, caught.value.key) == ("asset", target)
    assert await count_rows(db, "clips") == 0


BAD_CLIPS = [
    pytest.param({"end_time": 1.0}, "end_time", id="end-before-start"),
    pytest.param({"end_time": 2.0}, "end_time", id="end-equals-start"),
    pytest.param({"start_time": -1.0}, "start_time", id="negative-start"),
    pytest.param({"end_time": float("inf")}, "end_time", id="infinite-end"),
    pytest.param({"duration": -1.0}, "duration", id="negative-duration"),
    pytest.param({"features": [1, 2]}, "features", id="features-not-object"),
    pytest.param({"start_time": "soon"}, "start_time", id="start-not-a-number"),
    pytest.param({"asset_id": "not-a-uuid"}, "asset_id", id="bad-asset-id"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_CLIPS)
async def test_bad_input_is_refused_before_anything_is_written(
        db: Database, asset: Asset, fields: dict[str, Any], field: str) -> None:
    await expect_invalid(db.create_clip(**{"asset_id": asset.id, "start_time": 2.0,
                                           "end_time": 5.0, **fields}), field)
    assert await count_rows(db, "clips") == 0


# -- create_clips (COPY) -----------------------------------------------------------------


async def test_create_clips_writes_every_row_with_defaults(db: Database, asset: Asset) -> None:
    other = await db.create_asset(asset.user_id, "w.mp4", "gs://bucket/w.mp4")
    written = await db.create_clips([
        NewClip(asset_id=asset.id, start_time=0, end_time=15, features={"emotion": "happy"}),
        {"asset_id": str(asset.id), "start_time": 15, "end_time": 30, "duration": 14.5,
         "has_text": True},
        {"asset_id": other.id, "start_time": 0, "end_time": 2.5, "has_speech": True},
    ])
    assert written == 3
    # One COPY gives every row the same created_at: compare them in a fixed order.
    got = sorted((str(c.asset_id), c.start_time, c.end_time, c.duration, c.features,
                  c.has_text, c.has_speech, c.status) for c in await db.list_clips())
    assert got == sorted([
        (str(asset.id), 0.0, 15.0, 15.0, {"emotion": "happy"}, False, False, ClipStatus.PENDING),
        (str(asset.id), 15.0, 30.0, 14.5, {}, True, False, ClipStatus.PENDING),
        (str(other.id), 0.0, 2.5, 2.5, {}, False, True, ClipStatus.PENDING),
    ])


async def test_create_clips_accepts_any_iterable_and_nothing(db: Database, asset: Asset) -> None:
    before = statements_run(db)
    assert await db.create_clips([]) == 0
    assert statements_run(db) == before  # no query for nothing
    rows = ({"asset_id": asset.id, "start_time": s, "end_time": s + 1} for s in range(500))
    assert await db.create_clips(rows) == 500
    assert await count_rows(db, "clips") == 500


@pytest.mark.parametrize(("fields", "field"), BAD_CLIPS)
async def test_create_clips_one_bad_item_writes_nothing(
        db: Database, asset: Asset, fields: dict[str, Any], field: str) -> None:
    good = {"asset_id": asset.id, "start_time": 2.0, "end_time": 5.0}
    with pytest.raises(InvalidInputError) as caught:
        await db.create_clips([good, good, {**good, **fields}, good])
    assert f"clips[2].{field}" in caught.value.fields
    assert await count_rows(db, "clips") == 0


async def test_create_clips_names_every_bad_item(db: Database, asset: Asset) -> None:
    good = {"asset_id": asset.id, "start_time": 0, "end_time": 1}
    items: list[Any] = [{**good, "colour": "red"}, "not a clip", good, {**good, "end_time": 0}]
    with pytest.raises(InvalidInputError) as caught:
        await db.create_clips(items)
    assert caught.value.fields == ("clips[0].colour", "clips[1]", "clips[3].end_time")
    assert await count_rows(db, "clips") == 0


@pytest.mark.parametrize("case", ["missing", "soft-deleted", "one-of-several-missing"])
async def test_create_clips_for_a_missing_asset_writes_nothing(
        db: Database, asset: Asset, case: str) -> None:
    asset_ids = [uuid4()]
    if case == "soft-deleted":
        asset_ids = [asset.id]
        await db.delete_asset(asset.id)
    elif case == "one-of-several-missing":
        asset_ids = [asset.id, uuid4(), asset.id]
    with pytest.raises(NotFoundError) as caught:
        await db.create_clips([{"asset_id": a, "start_time": 0, "end_time": 1}
                               for a in asset_ids])
    assert caught.value.entity == "asset"
    assert await count_rows(db, "clips") == 0


async def test_create_clips_in_a_transaction_rolls_back_with_it(db: Database,
                                                                asset: Asset) -> None:
    async def copy_then_fail(tx: Transaction) -> None:
        assert await tx.create_clips(
            [{"asset_id": asset.id, "start_time": 0, "end_time": 1}] * 3) == 3
        assert len(await tx.list_clips()) == 3  # the COPY ran on the transaction's connection
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await db.transaction(copy_then_fail)
    assert await count_rows(db, "clips") == 0


# -- scoring -----------------------------------------------------------------------------


async def test_update_clip_scoring_sets_every_field(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(asset.id, 0, 15)
    scored = await db.update_clip_scoring(str(clip.id), 0.85, viral_score=0.75,
                                          engagement_score=0.9, rank=1)
    assert (scored.score, scored.viral_score, scored.engagement_score, scored.rank) == (
        0.85, 0.75, 0.9, 1)
    assert scored.status is ClipStatus.SCORED
    assert scored.updated_at > clip.updated_at
    assert await db.get_clip_by_id(clip.id) == scored


async def test_update_clip_scoring_keeps_what_is_not_given(db: Database, asset: Asset) -> None:
    clip = await db.create_clip(asset.id, 0, 15)
    await db.update_clip_scoring(clip.id, 0.5, viral_score=0.4, engagement_score=0.3, rank=2)
    again = await db.update_clip_scoring(clip.id, ClipScoring(score=0.6, status="FAILED"))
    assert (again.score, again.viral_score, again.engagement_score, again.rank) == (
        0.6, 0.4, 0.3, 2)
    assert again.status is ClipStatus.FAILED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"score": 1.5}, "score", id="score-above-one"),
        pytest.param({"score": -0.1}, "score", id="negative-score"),
        pytest.param({"viral_score": 2}, "viral_score", id="viral-above-one"),
        pytest.param({"engagement_score": float("nan")}, "engagement_score", id="nan"),
        pytest.param({"rank": 0}, "rank", id="rank-zero"),
        pytest.param({"status": "DONE"}, "status", id="unknown-status"),
    ],
)
async def test_update_clip_scoring_refuses_bad_scores(
        db: Database, asset: Asset, fields: dict[str, Any], field: str) -> None:
    clip = await db.create_clip(asset.id, 0, 15)
    await expect_invalid(db.update_clip_scoring(clip.id, **{"score": 0.5, **fields}), field)
    assert await db.get_clip_by_id(clip.id) == clip


@pytest.mark.parametrize("soft_deleted", [False, True], ids=["missing", "soft-deleted"])
async def test_update_clip_scoring_of_a_missing_clip_is_not_found(
        db: Database, asset: Asset, soft_deleted: bool) -> None:
    target = uuid4()
    if soft_deleted:
        target = (await db.create_clip(asset.id, 0, 1)).id
        await db.delete_clip(target)
    with pytest.raises(NotFoundError) as caught:
        await db.update_clip_scoring(target, 0.5)
    assert (caught.value.entity, caught.value.key) == ("clip", target)


# -- get_top_clips -----------------------------------------------------------------------


async def test_top_clips_best_first_live_scored_only(db: Database, asset: Asset) -> None:
    low, top, _unscored, tie_a, tie_b, gone = await _scored(db, asset, 0.2, 0.9, None, 0.7,
                                                            0.7, 0.99)
    await db.delete_clip(gone.id)
    other = await db.create_asset(asset.user_id, "w.mp4", "gs://bucket/w.mp4")
    await _scored(db, other, 0.95)
    ties = sorted([tie_a, tie_b], key=lambda c: c.id)
    assert await db.get_top_clips(asset.id) == [top, *ties, low]
    assert await db.get_top_clips(str(asset.id), limit=2) == [top, ties[0]]
    assert await db.get_top_clips(asset.id, min_score=0.7) == [top, *ties]  # inclusive
    assert await db.get_top_clips(asset.id, min_score=1.0) == []
    assert await db.get_top_clips(uuid4()) == []


async def test_top_clips_reads_the_partial_index_in_order(db: Database, asset: Asset) -> None:
    await _scored(db, asset, 0.1, 0.5, 0.9)
    sql = Registry.load(sql_dir())["get_top_clips"].sql
    async with db.acquire() as conn:
        # A tiny table would be read sequentially; forbid that to see which index fits.
        await conn.execute("SET enable_seqscan = off")
        await conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(
            f"EXPLAIN (COSTS OFF) {sql}", asset.id, 0.0, 10))
    assert "Index Scan using clips_top_by_asset_idx" in plan
    assert "Sort" not in plan  # the index order is the result order


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"limit": 0}, "limit", id="limit-zero"),
        pytest.param({"limit": 1001}, "limit", id="limit-too-big"),
        pytest.param({"limit": True}, "limit", id="bool-limit"),
        pytest.param({"limit": "10"}, "limit", id="string-limit"),
        pytest.param({"min_score": -0.01}, "min_score", id="negative-min-score"),
        pytest.param({"min_score": 1.01}, "min_score", id="min-score-above-one"),
        pytest.param({"min_score": float("nan")}, "min_score", id="nan-min-score"),
        pytest.param({"asset_id": "x"}, "asset_id", id="bad-asset-id"),
    ],
)
async def test_top_clips_refuses_bad_arguments(db: Database, asset: Asset,
                                               arguments: dict[str, Any], field: str) -> None:
    before = statements_run(db)
    await expect_invalid(db.get_top_clips(**{"asset_id": asset.id, **arguments}), field)
    assert statements_run(db) == before


# -- list / delete -----------------------------------------------------------------------


async def test_list_clips_pages_oldest_first_and_filters(db: Database, asset: Asset) -> None:
    other = await db.create_asset(asset.user_id, "w.mp4", "gs://bucket/w.mp4")
    mine = await _scored(db, asset, 0.5, None, 0.7, None)
    theirs = await _scored(db, other, None)
    await db.delete_clip(mine[3].id)
    assert await db.list_clips() == [*mine[:3], *theirs]
    assert await db.list_clips(skip=1, take=2) == mine[1:3]
    assert await db.list_clips(asset_id=str(asset.id)) == mine[:3]
    assert await db.list_clips(status="SCORED") == [mine[0], mine[2]]
    assert await db.list_clips(asset_id=other.id, status=ClipStatus.PENDING) == theirs
    assert await db.list_clips(asset_id=uuid4()) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"skip": -1}, "skip", id="negative-skip"),
        pytest.param({"take": 0}, "take", id="take-zero"),
        pytest.param({"take": 1001}, "take", id="take-too-big"),
        pytest.param({"asset_id": "x"}, "asset_id", id="bad-asset-id"),
        pytest.param({"status": "DONE"}, "status", id="unknown-status"),
    ],
)
async def test_list_clips_refuses_bad_arguments(db: Database, arguments: dict[str, Any],
                                                field: str) -> None:
    await expect_invalid(db.list_clips(**arguments), field)


async def test_soft_delete_hides_the_clip_everywhere(db: Database, asset: Asset) -> None:
    [clip] = await _scored(db, asset, 0.9)
    prediction = await db.create_prediction(clip.id, "v1")
    await db.delete_clip(str(clip.id))
    assert await db.get_clip_by_id(clip.id) is None
    assert await db.list_clips() == []
    assert await db.get_top_clips(asset.id) == []
    [listed] = await db.list_assets(asset.user_id)
    assert listed.clips == []
    for again in (db.delete_clip(clip.id), db.update_clip_scoring(clip.id, 0.5),
                  db.create_prediction(clip.id, "v2")):
        with pytest.raises(NotFoundError):
            await again
    assert await count_rows(db, "clips", soft_deleted=True) == 1  # only hidden
    assert await db.get_prediction_by_id(prediction.id) == prediction  # kept


async def test_hard_delete_cascades_to_predictions(db: Database, asset: Asset) -> None:
    clip, kept = await _scored(db, asset, 0.9, 0.8)
    await db.create_prediction(clip.id, "v1")
    await db.create_prediction(kept.id, "v1")
    conversion = await add_attributed_conversion(db, asset.user_id, clip.id)
    await db.delete_clip(clip.id, soft=False)
    assert await db.list_clips() == [kept]
    assert await count_rows(db, "predictions") == 1
    assert await attributed_clip_of(db, conversion) is None
    with pytest.raises(NotFoundError):
        await db.delete_clip(clip.id, soft=False)
