"""A/B experiments inside campaigns (SQL: ``sql/experiments.sql``).

An experiment is visible while its campaign is live: soft-deleting the campaign hides its
experiments from every getter here, and hard-deleting it removes them (ON DELETE CASCADE).

Deciding an experiment is one guarded UPDATE; when it changes nothing, a follow-up read
tells the caller precisely why. The seed's own example,
``selectExperimentWinner(experiment.id, 'variant-b', 0.95)`` on variants ``'a'``/``'b'``,
stored a winner that was never a variant; here it raises InvalidInputError.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from ..core.checks import text_problem
from ..core.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from . import queries as q
from ._base import DomainAPI, as_uuid, found, validate, validate_page
from .models import Experiment, ExperimentStatus, NewExperiment, Variant

__all__ = ["ExperimentsAPI"]

def _check_winner(variant_id: object, confidence: object) -> float:
    """Refuse a malformed winner before any SQL runs; returns ``confidence`` as a float."""
    errors = []
    if not isinstance(variant_id, str) or not variant_id:
        errors.append(FieldError("variant_id", "must be a non-empty string"))
    elif (problem := text_problem(variant_id)) is not None:
        errors.append(FieldError("variant_id", problem))
    if (not isinstance(confidence, int | float) or isinstance(confidence, bool)
            or not math.isfinite(confidence) or not 0 <= confidence <= 1):
        errors.append(FieldError("confidence", "must be a number from 0 to 1"))
    if errors:
        raise InvalidInputError(errors)
    assert isinstance(confidence, int | float)
    return float(confidence)


class ExperimentsAPI(DomainAPI):
    """A/B experiments: create, read, list, decide a winner."""

    __slots__ = ()

    async def create_experiment(self, campaign_id: UUID | str | NewExperiment,
                                name: str | None = None,
                                variants: list[Variant] | list[dict[str, Any]] | None = None,
                                ) -> Experiment:
        """Start a RUNNING experiment in a live campaign.

        Args:
            campaign_id: the campaign, or a complete :class:`NewExperiment`.
            variants: at least two objects, each with a unique string ``id``; every other
                key is kept as given (``{"id": "a", "headline": "Buy Now"}``).

        Raises:
            InvalidInputError: fewer than two variants, a variant without an ``id``,
                duplicate ids, an empty name.
            NotFoundError: the campaign does not exist or is soft-deleted.
        """
        data = campaign_id if isinstance(campaign_id, NewExperiment) else validate(
            NewExperiment, campaign_id=campaign_id, name=name, variants=variants)
        experiment = await self.run(q.create_experiment(data.campaign_id, data.name,
                                                        [v.model_dump() for v in data.variants]))
        return found(experiment, "campaign", data.campaign_id)

    async def get_experiment_by_id(self, id: UUID | str) -> Experiment | None:
        """The experiment with this id, or None (also when its campaign is soft-deleted)."""
        return await self.run(q.get_experiment_by_id(as_uuid(id)))

    async def list_experiments(self, campaign_id: UUID | str, *, skip: int = 0,
                               take: int = 100) -> list[Experiment]:
        """A page of a live campaign's experiments, oldest first (``1 <= take <= 1000``).

        A missing or deleted campaign has none ([]).
        """
        validate_page(skip, take)
        return await self.run(q.list_experiments(as_uuid(campaign_id, "campaign_id"), skip,
                                                 take))

    async def select_experiment_winner(self, id: UUID | str, variant_id: str,
                                       confidence: float) -> Experiment:
        """Decide a RUNNING experiment: store the winner, status COMPLETED, completed_at.

        A decision is final: deciding again (even with the same winner) is a conflict
        with the experiment's state, not bad input, so it raises ConflictError. Two
        concurrent calls cannot both succeed.

        Args:
            variant_id: the ``id`` of one of the experiment's variants.
            confidence: the winner's statistical confidence, from 0 to 1.

        Raises:
            InvalidInputError: ``variant_id`` is not one of the variants' ids, or
                ``confidence`` is outside [0, 1].
            NotFoundError: no experiment of a live campaign has this id.
            ConflictError: the experiment is not RUNNING (already COMPLETED, or
                CANCELLED); ``field`` is ``"status"``.
        """
        key = as_uuid(id)
        level = _check_winner(variant_id, confidence)
        decided = await self.run(q.select_experiment_winner(key, variant_id, level))
        if decided is not None:
            return decided
        # Nothing matched the guarded UPDATE: read the row to say which guard refused it.
        current = await self.run(q.get_experiment_by_id(key))
        if current is None:
            raise NotFoundError("experiment", id)
        if current.status is not ExperimentStatus.RUNNING:
            raise ConflictError(f"experiment {key} is {current.status.value}, not RUNNING: "
                                "it cannot be decided", table="experiments", field="status",
                                sqlstate=None)
        if not any(v.get("id") == variant_id for v in current.variants):
            ids = ", ".join(str(v.get("id")) for v in current.variants)
            raise InvalidInputError([FieldError(
                "variant_id", f"is not one of the experiment's variants ({ids})")])
        # RUNNING with that variant now, yet the UPDATE saw otherwise: it changed between
        # the two statements. No state goes back to RUNNING, so this is not expected.
        raise ConflictError(f"experiment {key} changed while being decided; try again",
                            table="experiments", field="status", sqlstate=None)
