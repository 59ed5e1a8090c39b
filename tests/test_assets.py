"""Assets: create, status, soft and hard delete, and list_assets with embedded clips."""

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

from gatewaydb import Database, InvalidInputError, NotFoundError
from gatewaydb.gateway.models import (
    Asset,
    AssetOwner,
    AssetStatus,
    AssetWithClips,
    Clip,
    ClipStatus,
    NewAsset,
    User,
)

pytestmark = pytest.mark.anyio


async def _asset(db: Database, user: User, name: str = "v.mp4", **fields: Any) -> Asset:
    return await db.create_asset(user.id, name, f"gs://bucket/{name}", **fields)


# -- create / get ------------------------------------------------------------------------


async def test_create_reads_back_every_field_with_its_type(db: Database, user: User) -> None:
    asset = await db.create_asset(
        user_id=str(user.id), filename="video_123.mp4", gcs_url="gs://bucket/videos/123.mp4",
        original_name="My Video.mp4", mime_type="video/mp4", file_size=5 * 2**30,
        gcs_bucket="bucket", gcs_path="videos/123.mp4", duration=120.5, width=1920,
        height=1080)
    assert isinstance(asset, Asset)
    assert isinstance(asset.id, UUID)
    assert asset.user_id == user.id
    assert (asset.filename, asset.gcs_url, asset.original_name, asset.mime_type) == (
        "video_123.mp4", "gs://bucket/videos/123.mp4", "My Video.mp4", "video/mp4")
    assert (asset.gcs_bucket, asset.gcs_path) == ("bucket", "videos/123.mp4")
    assert asset.file_size == 5 * 2**30  # bigint: beyond 32 bits
    assert isinstance(asset.file_size, int)
    assert asset.duration == 120.5
    assert isinstance(asset.duration, float)
    assert (asset.width, asset.height) == (1920, 1080)
    assert asset.status is AssetStatus.PENDING
    assert_aware(asset.created_at, asset.updated_at)
    assert asset.deleted_at is None
    assert await db.get_asset_by_id(asset.id) == asset
    assert await db.get_asset_by_id(str(asset.id)) == asset


async def test_optional_fields_default_to_none(db: Database, user: User) -> None:
    asset = await db.create_asset(user.id, "v.mp4", "gs://b/v.mp4")
    assert (asset.original_name, asset.mime_type, asset.file_size, asset.gcs_bucket,
            asset.gcs_path, asset.duration, asset.width, asset.height) == (None,) * 8


async def test_an_input_model_is_accepted(db: Database, user: User) -> None:
    asset = await db.create_asset(NewAsset(user_id=user.id, filename="m.mp4",
                                           gcs_url="gs://b/m.mp4", width=640, height=360))
    assert (asset.filename, asset.width, asset.height) == ("m.mp4", 640, 360)


async def test_get_returns_none_for_a_missing_asset(db: Database) -> None:
    assert await db.get_asset_by_id(uuid4()) is None


@pytest.mark.parametrize("soft_deleted", [False, True], ids=["missing-user", "soft-deleted-user"])
async def test_create_for_a_missing_or_soft_deleted_user_is_not_found(
        db: Database, user: User, soft_deleted: bool) -> None:
    if soft_deleted:
        await db.delete_user(user.id)
        owner = user.id
    else:
        owner = uuid4()
    with pytest.raises(NotFoundError) as caught:
        await db.create_asset(owner, "v.mp4", "gs://b/v.mp4")
    assert (caught.value.entity, caught.value.key) == ("user", owner)
    assert await count_rows(db, "assets") == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"filename": ""}, "filename", id="empty-filename"),
        pytest.param({"filename": None}, "filename", id="missing-filename"),
        pytest.param({"gcs_url": None}, "gcs_url", id="missing-gcs-url"),
        pytest.param({"file_size": -1}, "file_size", id="negative-size"),
        pytest.param({"file_size": 2**63}, "file_size", id="size-beyond-bigint"),
        pytest.param({"duration": -0.5}, "duration", id="negative-duration"),
        pytest.param({"duration": float("nan")}, "duration", id="nan-duration"),
        pytest.param({"width": 0}, "width", id="zero-width"),
        pytest.param({"height": "tall"}, "height", id="height-not-a-number"),
        pytest.param({"user_id": "not-a-uuid"}, "user_id", id="bad-user-id"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(
        db: Database, user: User, fields: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"user_id": user.id, "filename": "v.mp4",
                                 "gcs_url": "gs://b/v.mp4", **fields}
    await expect_invalid(db.create_asset(**arguments), field)
    assert await count_rows(db, "assets") == 0


# -- status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AssetStatus.PROCESSING, "READY"], ids=["enum", "string"])
async def test_update_status(db: Database, user: User, status: AssetStatus | str) -> None:
    asset = await _asset(db, user)
    updated = await db.update_asset_status(asset.id, status)
    assert updated.status is AssetStatus(status)
    assert updated.updated_at > asset.updated_at  # the database's trigger
    assert updated.model_dump(exclude={"status", "updated_at"}) == asset.model_dump(
        exclude={"status", "updated_at"})
    assert await db.get_asset_by_id(asset.id) == updated


@pytest.mark.parametrize("status", ["DONE", "ready", None], ids=["unknown", "lowercase", "none"])
async def test_update_status_refuses_a_bad_status(db: Database, user: User, status: Any) -> None:
    asset = await _asset(db, user)
    with pytest.raises(InvalidInputError) as caught:
        await db.update_asset_status(asset.id, status)
    assert caught.value.fields == ("status",)
    assert await db.get_asset_by_id(asset.id) == asset


@pytest.mark.parametrize("soft_deleted", [False, True], ids=["missing", "soft-deleted"])
async def test_update_status_of_a_missing_or_deleted_asset_is_not_found(
        db: Database, user: User, soft_deleted: bool) -> None:
    target = uuid4()
    if soft_deleted:
        target = (await _asset(db, user)).id
        await db.delete_asset(target)
    with pytest.raises(NotFoundError) as caught:
        await db.update_asset_status(target, "READY")
    assert caught.value.entity == "asset"


# -- delete ------------------------------------------------------------------------------


async def test_soft_delete_hides_the_asset_but_not_its_clips(db: Database, user: User) -> None:
    asset = await _asset(db, user)
    clip = await db.create_clip(asset.id, 0, 5)
    await db.delete_asset(asset.id)
    assert await db.get_asset_by_id(asset.id) is None
    assert await db.list_assets(user.id) == []
    for again in (db.delete_asset(asset.id), db.update_asset_status(asset.id, "READY")):
        with pytest.raises(NotFoundError):
            await again
    assert await count_rows(db, "assets", soft_deleted=True) == 1  # only hidden
    # A clip is hidden only by its own deleted_at (documented in domain/assets.py) ...
    assert await db.get_clip_by_id(clip.id) == clip
    # ... but a soft-deleted asset takes no new clips.
    with pytest.raises(NotFoundError):
        await db.create_clip(asset.id, 5, 10)


async def test_hard_delete_cascades_to_clips_and_predictions(db: Database, user: User) -> None:
    asset = await _asset(db, user)
    kept = await _asset(db, user, "kept.mp4")
    clip = await db.create_clip(asset.id, 0, 5)
    other_clip = await db.create_clip(kept.id, 0, 5)
    await db.create_prediction(clip.id, "v1")
    await db.create_prediction(other_clip.id, "v1")
    conversion = await add_attributed_conversion(db, user.id, clip.id)
    await db.delete_asset(asset.id, soft=False)
    assert await count_rows(db, "assets") == 1
    assert await count_rows(db, "clips") == 1
    assert await count_rows(db, "predictions") == 1
    # The revenue stays; only its attribution to the removed clip is gone.
    assert await attributed_clip_of(db, conversion) is None
    with pytest.raises(NotFoundError):
        await db.delete_asset(asset.id, soft=False)


# -- list_assets -------------------------------------------------------------------------


async def test_list_assets_embeds_best_live_clips_and_owner(db: Database, user: User) -> None:
    asset = await _asset(db, user)
    scores = {"low": 0.2, "top": 0.95, "mid": 0.5, "tie_a": 0.7, "tie_b": 0.7}
    clips: dict[str, Clip] = {}
    for n, (label, score) in enumerate(scores.items()):
        clip = await db.create_clip(asset.id, n, n + 1, features={"label": label},
                                    has_text=True)
        clips[label] = await db.update_clip_scoring(clip.id, score, viral_score=0.1, rank=n + 1)
    unscored = await db.create_clip(asset.id, 10, 11)
    gone = await db.update_clip_scoring((await db.create_clip(asset.id, 20, 21)).id, 0.99)
    await db.delete_clip(gone.id)

    [listed] = await db.list_assets(user.id, clips_per_asset=10)
    assert isinstance(listed, AssetWithClips)
    assert Asset.model_validate(listed.model_dump(exclude={"clips", "user"})) == asset
    assert listed.user == AssetOwner(name="Owner", email="owner@example.com")
    ties = sorted([clips["tie_a"], clips["tie_b"]], key=lambda c: c.id)
    expected = [clips["top"], *ties, clips["mid"], clips["low"], unscored]
    # Every field survives the trip through JSON: floats, enums, dicts, timestamps.
    assert listed.clips == expected
    for clip in listed.clips:
        assert isinstance(clip, Clip)
        assert isinstance(clip.id, UUID)
        assert isinstance(clip.status, ClipStatus)
        assert isinstance(clip.features, dict)
        assert isinstance(clip.start_time, float)
        assert_aware(clip.created_at, clip.updated_at)


@pytest.mark.parametrize(
    ("clips_min_score", "clips_per_asset", "expected"),
    [
        pytest.param(None, 2, [0.9, 0.6], id="limit"),
        pytest.param(0.6, 5, [0.9, 0.6], id="min-score-inclusive"),
        pytest.param(0.0, 5, [0.9, 0.6, 0.3], id="min-score-zero-drops-unscored"),
        pytest.param(None, 5, [0.9, 0.6, 0.3, None], id="unscored-last"),
        pytest.param(0.95, 5, [], id="none-good-enough"),
    ],
)
async def test_list_assets_clip_filters(db: Database, user: User, clips_min_score: float | None,
                                        clips_per_asset: int,
                                        expected: list[float | None]) -> None:
    asset = await _asset(db, user)
    for n, score in enumerate([0.3, None, 0.9, 0.6]):
        clip = await db.create_clip(asset.id, n, n + 1)
        if score is not None:
            await db.update_clip_scoring(clip.id, score)
    [listed] = await db.list_assets(user.id, clips_min_score=clips_min_score,
                                    clips_per_asset=clips_per_asset)
    assert [c.score for c in listed.clips] == expected


async def test_list_assets_pages_newest_first_and_filters(db: Database, user: User) -> None:
    other = await db.create_user(email="other@example.com")
    await _asset(db, other, "theirs.mp4")
    assets = [await _asset(db, user, f"a{n}.mp4") for n in range(5)]
    await db.update_asset_status(assets[1].id, AssetStatus.READY)
    await db.update_asset_status(assets[3].id, AssetStatus.READY)
    await db.delete_asset(assets[4].id)

    names = [a.filename for a in await db.list_assets(str(user.id))]
    assert names == ["a3.mp4", "a2.mp4", "a1.mp4", "a0.mp4"]
    page = await db.list_assets(user.id, skip=1, take=2)
    assert [a.filename for a in page] == ["a2.mp4", "a1.mp4"]
    for status in (AssetStatus.READY, "READY"):
        ready = await db.list_assets(user.id, status=status)
        assert [a.filename for a in ready] == ["a3.mp4", "a1.mp4"]
    assert all(a.clips == [] for a in page)
    assert await db.list_assets(uuid4()) == []


async def test_list_assets_is_one_query_whatever_take_is(db: Database, user: User) -> None:
    for n in range(30):
        asset = await _asset(db, user, f"a{n}.mp4")
        await db.create_clips([{"asset_id": asset.id, "start_time": s, "end_time": s + 1}
                               for s in range(3)])
    before = statements_run(db)
    listed = await db.list_assets(user.id, take=30, clips_per_asset=3)
    assert statements_run(db) - before == 1
    assert len(listed) == 30
    assert all(len(a.clips) == 3 for a in listed)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"skip": -1}, "skip", id="negative-skip"),
        pytest.param({"take": 0}, "take", id="take-zero"),
        pytest.param({"take": 1001}, "take", id="take-too-big"),
        pytest.param({"status": "DONE"}, "status", id="unknown-status"),
        pytest.param({"clips_per_asset": 0}, "clips_per_asset", id="no-clips"),
        pytest.param({"clips_per_asset": 101}, "clips_per_asset", id="too-many-clips"),
        pytest.param({"clips_per_asset": True}, "clips_per_asset", id="bool-clip-count"),
        pytest.param({"clips_min_score": -0.1}, "clips_min_score", id="negative-min-score"),
        pytest.param({"clips_min_score": 1.5}, "clips_min_score", id="min-score-above-one"),
        pytest.param({"user_id": "nobody"}, "user_id", id="bad-user-id"),
    ],
)
async def test_list_assets_refuses_bad_arguments(db: Database, user: User,
                                                 arguments: dict[str, Any], field: str) -> None:
    before = statements_run(db)
    await expect_invalid(db.list_assets(**{"user_id": user.id, **arguments}), field)
    assert statements_run(db) == before  # refused before any SQL ran
