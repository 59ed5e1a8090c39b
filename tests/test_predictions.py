"""Predictions: record, read, list per clip, complete with actual results."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from helpers import assert_aware, count_rows, expect_invalid

from gatewaydb import Database, NotFoundError
from gatewaydb.gateway.models import Clip, NewPrediction, Prediction, PredictionActuals

pytestmark = pytest.mark.anyio


async def test_create_reads_back_every_field_with_its_type(db: Database, clip: Clip) -> None:
    prediction = await db.create_prediction(
        clip_id=str(clip.id), model_version="v1.2.3", predicted_roas=2.5, predicted_ctr=0.035,
        predicted_cpc=0.75, features={"clipScore": 0.85, "hasFaces": True}, confidence=0.92)
    assert isinstance(prediction, Prediction)
    assert isinstance(prediction.id, UUID)
    assert (prediction.clip_id, prediction.model_version) == (clip.id, "v1.2.3")
    assert (prediction.predicted_roas, prediction.predicted_ctr, prediction.predicted_cpc,
            prediction.confidence) == (2.5, 0.035, 0.75, 0.92)
    assert isinstance(prediction.predicted_roas, float)
    assert prediction.features == {"clipScore": 0.85, "hasFaces": True}
    assert (prediction.actual_roas, prediction.actual_ctr, prediction.actual_cpc,
            prediction.prediction_error) == (None,) * 4
    assert_aware(prediction.created_at, prediction.updated_at)
    assert await db.get_prediction_by_id(prediction.id) == prediction
    assert await db.get_prediction_by_id(str(prediction.id)) == prediction


async def test_an_input_model_and_defaults(db: Database, clip: Clip) -> None:
    prediction = await db.create_prediction(NewPrediction(clip_id=clip.id, model_version="v2"))
    assert (prediction.features, prediction.predicted_roas, prediction.confidence) == ({}, None,
                                                                                       None)


async def test_get_returns_none_for_a_missing_prediction(db: Database) -> None:
    assert await db.get_prediction_by_id(uuid4()) is None


@pytest.mark.parametrize("soft_deleted", [False, True], ids=["missing-clip", "deleted-clip"])
async def test_create_for_a_missing_or_soft_deleted_clip_is_not_found(
        db: Database, clip: Clip, soft_deleted: bool) -> None:
    target = clip.id if soft_deleted else uuid4()
    if soft_deleted:
        await db.delete_clip(clip.id)
    with pytest.raises(NotFoundError) as caught:
        await db.create_prediction(target, "v1")
    assert (caught.value.entity, caught.value.key) == ("clip", target)
    assert await count_rows(db, "predictions") == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"model_version": ""}, "model_version", id="empty-version"),
        pytest.param({"model_version": None}, "model_version", id="missing-version"),
        pytest.param({"predicted_ctr": 1.5}, "predicted_ctr", id="ctr-above-one"),
        pytest.param({"predicted_roas": -1}, "predicted_roas", id="negative-roas"),
        pytest.param({"predicted_cpc": float("inf")}, "predicted_cpc", id="infinite-cpc"),
        pytest.param({"confidence": -0.1}, "confidence", id="negative-confidence"),
        pytest.param({"features": "fast"}, "features", id="features-not-object"),
        pytest.param({"clip_id": "nope"}, "clip_id", id="bad-clip-id"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(
        db: Database, clip: Clip, fields: dict[str, Any], field: str) -> None:
    await expect_invalid(
        db.create_prediction(**{"clip_id": clip.id, "model_version": "v1", **fields}), field)
    assert await count_rows(db, "predictions") == 0


async def test_list_predictions_newest_first_per_clip(db: Database, clip: Clip) -> None:
    other = await db.create_clip(clip.asset_id, 15, 30)
    made = [await db.create_prediction(clip.id, f"v{n}") for n in range(4)]
    await db.create_prediction(other.id, "theirs")
    assert await db.list_predictions(clip.id) == made[::-1]
    assert await db.list_predictions(str(clip.id), skip=1, take=2) == made[2:0:-1]
    assert await db.list_predictions(uuid4()) == []


async def test_predictions_of_a_soft_deleted_clip_stay_readable(db: Database,
                                                                clip: Clip) -> None:
    prediction = await db.create_prediction(clip.id, "v1")
    await db.delete_clip(clip.id)
    assert await db.list_predictions(clip.id) == [prediction]
    assert await db.get_prediction_by_id(prediction.id) == prediction


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"clip_id": "x"}, "clip_id", id="bad-clip-id"),
        pytest.param({"skip": -1}, "skip", id="negative-skip"),
        pytest.param({"take": 0}, "take", id="take-zero"),
        pytest.param({"take": 1001}, "take", id="take-too-big"),
    ],
)
async def test_list_predictions_refuses_bad_arguments(db: Database, clip: Clip,
                                                      arguments: dict[str, Any],
                                                      field: str) -> None:
    await expect_invalid(db.list_predictions(**{"clip_id": clip.id, **arguments}), field)


async def test_update_actuals_sets_given_fields_and_keeps_the_rest(db: Database,
                                                                   clip: Clip) -> None:
    prediction = await db.create_prediction(clip.id, "v1", predicted_roas=2.5)
    updated = await db.update_prediction_actuals(str(prediction.id), actual_roas=2.8,
                                                 actual_ctr=0.042, actual_cpc=0.68,
                                                 prediction_error=0.12)
    assert (updated.actual_roas, updated.actual_ctr, updated.actual_cpc,
            updated.prediction_error) == (2.8, 0.042, 0.68, 0.12)
    assert updated.predicted_roas == 2.5
    assert updated.updated_at > prediction.updated_at
    again = await db.update_prediction_actuals(prediction.id,
                                               PredictionActuals(actual_ctr=0.05))
    assert (again.actual_roas, again.actual_ctr, again.actual_cpc,
            again.prediction_error) == (2.8, 0.05, 0.68, 0.12)
    assert await db.get_prediction_by_id(prediction.id) == again


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"actual_ctr": 1.2}, "actual_ctr", id="ctr-above-one"),
        pytest.param({"actual_roas": -0.5}, "actual_roas", id="negative-roas"),
        pytest.param({"actual_cpc": "cheap"}, "actual_cpc", id="cpc-not-a-number"),
        pytest.param({"prediction_error": float("nan")}, "prediction_error", id="nan-error"),
    ],
)
async def test_update_actuals_refuses_bad_values(db: Database, clip: Clip,
                                                 fields: dict[str, Any], field: str) -> None:
    prediction = await db.create_prediction(clip.id, "v1")
    await expect_invalid(db.update_prediction_actuals(prediction.id, **fields), field)
    assert await db.get_prediction_by_id(prediction.id) == prediction


async def test_update_actuals_of_a_missing_prediction_is_not_found(db: Database) -> None:
    missing = uuid4()
    with pytest.raises(NotFoundError) as caught:
        await db.update_prediction_actuals(missing, actual_roas=1.0)
    assert (caught.value.entity, caught.value.key) == ("prediction", missing)


async def test_hard_deleting_the_clip_removes_its_predictions(db: Database, clip: Clip) -> None:
    await db.create_prediction(clip.id, "v1")
    await db.delete_clip(clip.id, soft=False)
    assert await count_rows(db, "predictions") == 0
