"""Predictions: a model's forecast for a clip, then what happened (SQL: ``sql/predictions.sql``).

Predictions have no soft delete. They are removed only with their clip's (or asset's) hard
delete, by cascade; a soft-deleted clip keeps its predictions readable, but no new
prediction can be made for it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from . import queries as q
from ._base import DomainAPI, as_uuid, found, validate, validate_page
from .models import NewPrediction, Prediction, PredictionActuals

__all__ = ["PredictionsAPI"]

class PredictionsAPI(DomainAPI):
    """ML predictions per clip: record, read, list, and complete with actual results."""

    __slots__ = ()

    async def create_prediction(self, clip_id: UUID | str | NewPrediction,
                                model_version: str | None = None,
                                predicted_roas: float | None = None,
                                predicted_ctr: float | None = None,
                                predicted_cpc: float | None = None,
                                features: dict[str, Any] | None = None,
                                confidence: float | None = None) -> Prediction:
        """Record a prediction for a live clip.

        Args:
            clip_id: the clip, or a :class:`NewPrediction` holding every field.
            model_version: required unless ``clip_id`` is a NewPrediction.
            predicted_ctr, confidence: in ``0..1``; ROAS and CPC are ``>= 0``.
            features: the model's inputs (a JSON object); defaults to ``{}``.

        Raises:
            InvalidInputError: a missing or bad field.
            NotFoundError: the clip does not exist or is soft-deleted.
        """
        data = clip_id if isinstance(clip_id, NewPrediction) else validate(
            NewPrediction, clip_id=clip_id, model_version=model_version,
            predicted_roas=predicted_roas, predicted_ctr=predicted_ctr,
            predicted_cpc=predicted_cpc, features=features, confidence=confidence)
        prediction = await self.run(q.create_prediction(
            data.clip_id, data.model_version, data.predicted_roas, data.predicted_ctr,
            data.predicted_cpc, data.features or {}, data.confidence))
        return found(prediction, "clip", data.clip_id)

    async def get_prediction_by_id(self, id: UUID | str) -> Prediction | None:
        """The prediction with this id, or None."""
        return await self.run(q.get_prediction_by_id(as_uuid(id)))

    async def list_predictions(self, clip_id: UUID | str, *, skip: int = 0,
                               take: int = 100) -> list[Prediction]:
        """A page of a clip's predictions, newest first (``1 <= take <= 1000``).

        Raises:
            InvalidInputError: a bad clip id or page.
        """
        validate_page(skip, take)
        return await self.run(q.list_predictions(as_uuid(clip_id, "clip_id"), skip, take))

    async def update_prediction_actuals(self, id: UUID | str,
                                        actual_roas: float | PredictionActuals | None = None,
                                        actual_ctr: float | None = None,
                                        actual_cpc: float | None = None,
                                        prediction_error: float | None = None) -> Prediction:
        """Record measured results; a field left as None keeps its stored value.

        Args:
            actual_roas: the measured ROAS, or a :class:`PredictionActuals` holding every
                field. ``actual_ctr`` is in ``0..1``; the others are ``>= 0``.

        Raises:
            InvalidInputError: a value out of range.
            NotFoundError: no prediction has this id.
        """
        data = actual_roas if isinstance(actual_roas, PredictionActuals) else validate(
            PredictionActuals, actual_roas=actual_roas, actual_ctr=actual_ctr,
            actual_cpc=actual_cpc, prediction_error=prediction_error)
        prediction = await self.run(q.update_prediction_actuals(as_uuid(id), data.actual_roas,
                                                                data.actual_ctr, data.actual_cpc,
                                                                data.prediction_error))
        return found(prediction, "prediction", id)
