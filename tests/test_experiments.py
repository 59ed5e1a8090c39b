"""Experiments: create, read, list, and deciding a winner exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from helpers import assert_aware, count_rows, expect_invalid, no_live_campaign

from gatewaydb import ConflictError, Database, InvalidInputError, NotFoundError
from gatewaydb.gateway.models import Campaign, Experiment, ExperimentStatus, NewExperiment, Variant

pytestmark = pytest.mark.anyio

VARIANTS = [{"id": "a", "headline": "Buy Now"}, {"id": "b", "headline": "Shop Today"}]


@pytest.fixture
async def experiment(db: Database, campaign: Campaign) -> Experiment:
    return await db.create_experiment(campaign.id, "Headline Test", VARIANTS)


async def test_create_reads_back_every_field_with_its_type(db: Database,
                                                           campaign: Campaign) -> None:
    experiment = await db.create_experiment(str(campaign.id), "Headline Test", VARIANTS)
    assert isinstance(experiment, Experiment)
    assert isinstance(experiment.id, UUID)
    assert experiment.campaign_id == campaign.id
    assert experiment.name == "Headline Test"
    assert experiment.status is ExperimentStatus.RUNNING
    assert experiment.variants == VARIANTS  # every key kept, order kept
    assert (experiment.winner_variant_id, experiment.confidence,
            experiment.completed_at) == (None, None, None)
    assert_aware(experiment.created_at, experiment.updated_at)
    assert await db.get_experiment_by_id(experiment.id) == experiment
    assert await db.get_experiment_by_id(str(experiment.id)) == experiment


async def test_an_input_model_is_accepted(db: Database, campaign: Campaign) -> None:
    experiment = await db.create_experiment(NewExperiment(
        campaign_id=campaign.id, name="Model",
        variants=[Variant(id="x", colour="red"), Variant(id="y")]))
    assert experiment.variants == [{"id": "x", "colour": "red"}, {"id": "y"}]


@pytest.mark.parametrize(("name", "variants", "field"), [
    pytest.param("T", [{"id": "a"}], "variants", id="one-variant"),
    pytest.param("T", [], "variants", id="no-variants"),
    pytest.param("T", [{"id": "a"}, {"id": "a"}], "variants", id="duplicate-ids"),
    pytest.param("T", [{"id": "a"}, {"headline": "no id"}], "variants.1.id", id="missing-id"),
    pytest.param("T", [{"id": "a"}, {"id": ""}], "variants.1.id", id="empty-id"),
    pytest.param("T", [{"id": "a"}, {"id": 2}], "variants.1.id", id="numeric-id"),
    pytest.param("T", "ab", "variants", id="not-a-list"),
    pytest.param("", VARIANTS, "name", id="empty-name"),
])
async def test_bad_input_is_refused_by_field_and_writes_nothing(
        db: Database, campaign: Campaign, name: str, variants: Any, field: str) -> None:
    await expect_invalid(db.create_experiment(campaign.id, name, variants), field)
    assert await count_rows(db, "experiments") == 0


@pytest.mark.parametrize("state", ["missing", "soft-deleted"])
async def test_create_needs_a_live_campaign(db: Database, campaign: Campaign,
                                            state: str) -> None:
    campaign_id = await no_live_campaign(db, campaign, state)
    with pytest.raises(NotFoundError) as caught:
        await db.create_experiment(campaign_id, "T", VARIANTS)
    assert caught.value.entity == "campaign"
    assert await count_rows(db, "experiments") == 0


async def test_list_is_one_campaigns_experiments_oldest_first(db: Database,
                                                              campaign: Campaign) -> None:
    other = await db.create_campaign(campaign.user_id, "Other", "SALES", 1)
    await db.create_experiment(other.id, "Not this one", VARIANTS)
    made = [await db.create_experiment(campaign.id, f"E{i}", VARIANTS) for i in range(3)]
    assert await db.list_experiments(campaign.id) == made
    assert await db.list_experiments(str(campaign.id)) == made
    assert await db.list_experiments(uuid4()) == []


async def test_soft_deleted_campaign_hides_its_experiments(db: Database, campaign: Campaign,
                                                           experiment: Experiment) -> None:
    await db.delete_campaign(campaign.id)
    assert await db.get_experiment_by_id(experiment.id) is None
    assert await db.list_experiments(campaign.id) == []
    with pytest.raises(NotFoundError):
        await db.select_experiment_winner(experiment.id, "a", 0.9)
    assert await count_rows(db, "experiments") == 1


async def test_get_missing_is_none(db: Database) -> None:
    assert await db.get_experiment_by_id(uuid4()) is None


# -- deciding a winner ----------------------------------------------------------------------


async def test_select_winner_completes_the_experiment(db: Database,
                                                      experiment: Experiment) -> None:
    decided = await db.select_experiment_winner(experiment.id, "b", 0.95)
    assert decided.status is ExperimentStatus.COMPLETED
    assert (decided.winner_variant_id, decided.confidence) == ("b", 0.95)
    assert isinstance(decided.confidence, float)
    assert isinstance(decided.completed_at, datetime)
    assert decided.completed_at.tzinfo is not None
    assert (decided.variants, decided.name, decided.created_at) == (
        experiment.variants, experiment.name, experiment.created_at)
    assert await db.get_experiment_by_id(experiment.id) == decided


async def test_the_seeds_winner_is_not_a_variant(db: Database, experiment: Experiment) -> None:
    # DATABASE.md: selectExperimentWinner(experiment.id, 'variant-b', 0.95) on ids 'a'/'b'.
    with pytest.raises(InvalidInputError) as caught:
        await db.select_experiment_winner(experiment.id, "variant-b", 0.95)
    assert caught.value.fields == ("variant_id",)
    assert await db.get_experiment_by_id(experiment.id) == experiment


@pytest.mark.parametrize(("variant_id", "confidence", "field"), [
    pytest.param("a", -0.01, "confidence", id="confidence-below-0"),
    pytest.param("a", 1.01, "confidence", id="confidence-above-1"),
    pytest.param("a", float("nan"), "confidence", id="confidence-nan"),
    pytest.param("a", True, "confidence", id="confidence-bool"),
    pytest.param("a", "high", "confidence", id="confidence-text"),
    pytest.param("", 0.5, "variant_id", id="empty-variant"),
    pytest.param(1, 0.5, "variant_id", id="numeric-variant"),
])
async def test_select_winner_refuses_bad_input(db: Database, experiment: Experiment,
                                               variant_id: Any, confidence: Any,
                                               field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await db.select_experiment_winner(experiment.id, variant_id, confidence)
    assert caught.value.fields == (field,)
    assert await db.get_experiment_by_id(experiment.id) == experiment


@pytest.mark.parametrize("confidence", [0, 1], ids=["zero", "one"])
async def test_confidence_bounds_are_inclusive(db: Database, experiment: Experiment,
                                               confidence: int) -> None:
    decided = await db.select_experiment_winner(experiment.id, "a", confidence)
    assert decided.confidence == float(confidence)


@pytest.mark.parametrize("again", ["b", "a"], ids=["same-winner", "other-winner"])
async def test_a_completed_experiment_cannot_be_decided_again(
        db: Database, experiment: Experiment, again: str) -> None:
    decided = await db.select_experiment_winner(experiment.id, "b", 0.95)
    with pytest.raises(ConflictError) as caught:
        await db.select_experiment_winner(experiment.id, again, 0.99)
    assert caught.value.field == "status"
    assert await db.get_experiment_by_id(experiment.id) == decided


async def test_a_cancelled_experiment_cannot_be_decided(db: Database,
                                                        experiment: Experiment) -> None:
    async with db.acquire() as conn:
        await conn.execute("UPDATE experiments SET status = 'CANCELLED' WHERE id = $1",
                           experiment.id)
    with pytest.raises(ConflictError):
        await db.select_experiment_winner(experiment.id, "a", 0.5)


async def test_select_winner_of_a_missing_experiment(db: Database) -> None:
    missing = uuid4()
    with pytest.raises(NotFoundError) as caught:
        await db.select_experiment_winner(missing, "a", 0.5)
    assert (caught.value.entity, caught.value.key) == ("experiment", missing)


async def test_concurrent_deciders_have_exactly_one_winner(database_url: str) -> None:
    async with Database(database_url, connection_limit=10) as db:
        user = await db.create_user(email="race@example.com")
        campaign = await db.create_campaign(user.id, "Race", "SALES", 1)
        variants = [{"id": str(i)} for i in range(10)]
        experiment = await db.create_experiment(campaign.id, "Race", variants)
        won: list[str] = []
        refused: list[ConflictError] = []

        async def decide(variant_id: str) -> None:
            try:
                won.append((await db.select_experiment_winner(
                    experiment.id, variant_id, 0.9)).winner_variant_id or "")
            except ConflictError as exc:
                refused.append(exc)

        async with anyio.create_task_group() as group:
            for variant in variants:
                group.start_soon(decide, variant["id"])
        final = await db.get_experiment_by_id(experiment.id)
    assert len(won) == 1
    assert len(refused) == 9
    assert final is not None
    assert final.winner_variant_id == won[0]
