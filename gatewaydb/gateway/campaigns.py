"""Campaigns and their delivery totals (SQL: ``sql/campaigns.sql``).

Money (``budget``, ``total_spend``, ...) is ``numeric(14, 2)`` in the database and
:class:`~decimal.Decimal` in Python, never float. Campaigns are soft-deleted by default;
every getter, list and aggregate here sees only live ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ..core.errors import FieldError, InvalidInputError
from . import queries as q
from ._base import (
    DomainAPI,
    as_enum,
    as_uuid,
    found,
    validate,
    validate_page,
    validate_update,
)
from .models import (
    Campaign,
    CampaignMetrics,
    CampaignObjective,
    CampaignStats,
    CampaignStatus,
    CampaignUpdate,
    MetricsDelta,
    NewCampaign,
)

__all__ = ["CampaignsAPI"]

MoneyLike = Decimal | int | float | str

# CampaignUpdate types every field as optional so that omitted fields can be told apart;
# these columns are NOT NULL, so an explicit None for them is refused here, by name.
_REQUIRED_ON_UPDATE = ("name", "objective", "budget", "status")


def _check_update(data: CampaignUpdate) -> None:
    given = data.model_fields_set
    errors = [FieldError(f, "cannot be cleared (None)")
              for f in _REQUIRED_ON_UPDATE if f in given and getattr(data, f) is None]
    # Only when both dates are given can Python see their order; otherwise the database's
    # campaigns_date_order CHECK compares the new date with the stored one.
    if data.start_date and data.end_date and data.end_date < data.start_date:
        errors.append(FieldError("end_date", "must not be before start_date"))
    if errors:
        raise InvalidInputError(errors)


class CampaignsAPI(DomainAPI):
    """Ad campaigns: create, read, update, metrics, per-user aggregate, delete."""

    __slots__ = ()

    async def create_campaign(self, user_id: UUID | str | NewCampaign, name: str | None = None,
                              objective: CampaignObjective | str | None = None,
                              budget: MoneyLike | None = None,
                              daily_budget: MoneyLike | None = None,
                              meta_campaign_id: str | None = None,
                              google_campaign_id: str | None = None,
                              target_audience: dict[str, Any] | None = None,
                              start_date: datetime | None = None,
                              end_date: datetime | None = None,
                              status: CampaignStatus | str = CampaignStatus.DRAFT) -> Campaign:
        """Create a campaign for a live user.

        Args:
            user_id: the owner, or a complete :class:`NewCampaign`.
            budget: total budget, >= 0 with at most 2 decimal places (as is ``daily_budget``).
            start_date: timezone-aware, as is ``end_date``, which must not precede it.

        Raises:
            InvalidInputError: a bad value (negative money, unknown objective or status,
                naive date, end before start, ...), named by field.
            NotFoundError: the user does not exist or is soft-deleted.
            ConflictError: ``meta_campaign_id`` or ``google_campaign_id`` is already taken.
        """
        data = user_id if isinstance(user_id, NewCampaign) else validate(
            NewCampaign, user_id=user_id, name=name, objective=objective, budget=budget,
            daily_budget=daily_budget, meta_campaign_id=meta_campaign_id,
            google_campaign_id=google_campaign_id, target_audience=target_audience,
            start_date=start_date, end_date=end_date, status=status)
        campaign = await self.run(q.create_campaign(
            data.user_id, data.name, data.objective, data.budget, data.daily_budget,
            data.status, data.meta_campaign_id, data.google_campaign_id,
            data.target_audience or {}, data.start_date, data.end_date))
        return found(campaign, "user", data.user_id)

    async def get_campaign_by_id(self, id: UUID | str) -> Campaign | None:
        """The live campaign with this id, or None (also for a soft-deleted one)."""
        return await self.run(q.get_campaign_by_id(as_uuid(id)))

    async def list_campaigns(self, user_id: UUID | str,
                             status: CampaignStatus | str | None = None, *, skip: int = 0,
                             take: int = 100) -> list[Campaign]:
        """A page of a user's live campaigns, newest first; ``1 <= take <= 1000``.

        Args:
            status: only campaigns in this status, if given.
        """
        validate_page(skip, take)
        return await self.run(q.list_campaigns(as_uuid(user_id, "user_id"), skip, take,
                                               as_enum(CampaignStatus, status, "status")))

    async def update_campaign(self, id: UUID | str,
                              update: CampaignUpdate | Mapping[str, Any] | None = None,
                              **fields: Any) -> Campaign:
        """Change the given fields (any of :class:`CampaignUpdate`'s); the rest are kept.

        Give them as keywords, as a :class:`CampaignUpdate`, or as a mapping
        (``update_campaign(id, {"status": "ACTIVE"})``) — one of the three.

        Nullable fields (``daily_budget``, the platform ids, the dates) are cleared by passing
        None; ``target_audience=None`` stores ``{}``. Totals have their own methods.

        Raises:
            InvalidInputError: an unknown field, a bad value, None for ``name``,
                ``objective``, ``budget`` or ``status``, dates out of order (against the
                stored date too: that one the database reports), or both an update object
                and keywords.
            NotFoundError: no live campaign has this id.
            ConflictError: the new ``meta_campaign_id`` / ``google_campaign_id`` is taken.
        """
        key = as_uuid(id)
        data = validate_update(CampaignUpdate, update, fields)
        _check_update(data)
        campaign = await self.run(q.update_campaign(
            key, sorted(data.model_fields_set), data.name, data.objective,
            data.budget, data.daily_budget, data.status, data.meta_campaign_id,
            data.google_campaign_id, data.target_audience, data.start_date, data.end_date))
        return found(campaign, "campaign", id)

    async def update_campaign_metrics(self, id: UUID | str,
                                      total_spend: MoneyLike | CampaignMetrics | None = None,
                                      total_impressions: int | None = None,
                                      total_clicks: int | None = None,
                                      total_conversions: int | None = None) -> Campaign:
        """Overwrite totals with the values an ad platform reported, as the seed does.

        A total left as None keeps its stored value. To add to totals instead (several
        writers), use :meth:`increment_campaign_metrics`.

        Args:
            total_spend: the new spend, or a complete :class:`CampaignMetrics`.

        Raises:
            InvalidInputError: a negative or malformed value.
            NotFoundError: no live campaign has this id.
        """
        data = total_spend if isinstance(total_spend, CampaignMetrics) else validate(
            CampaignMetrics, total_spend=total_spend, total_impressions=total_impressions,
            total_clicks=total_clicks, total_conversions=total_conversions)
        campaign = await self.run(q.update_campaign_metrics(
            as_uuid(id), data.total_spend, data.total_impressions, data.total_clicks,
            data.total_conversions))
        return found(campaign, "campaign", id)

    async def increment_campaign_metrics(self, id: UUID | str,
                                         spend: MoneyLike | MetricsDelta = 0,
                                         impressions: int = 0, clicks: int = 0,
                                         conversions: int = 0) -> Campaign:
        """Add non-negative deltas to the totals atomically, and return the new totals.

        One UPDATE computes each total from the locked row, so concurrent callers never
        lose an update.

        Args:
            spend: amount to add to ``total_spend``, or a complete :class:`MetricsDelta`.

        Raises:
            InvalidInputError: a negative or malformed delta, or a total that would overflow.
            NotFoundError: no live campaign has this id.
        """
        data = spend if isinstance(spend, MetricsDelta) else validate(
            MetricsDelta, spend=spend, impressions=impressions, clicks=clicks,
            conversions=conversions)
        campaign = await self.run(q.increment_campaign_metrics(
            as_uuid(id), data.spend, data.impressions, data.clicks, data.conversions))
        return found(campaign, "campaign", id)

    async def campaign_stats(self, user_id: UUID | str) -> CampaignStats:
        """The seed's aggregate over a user's live campaigns.

        Returns:
            Sum of ``total_spend``, sum of ``total_conversions``, the average spend (exact,
            unrounded) and the campaign count; with no campaigns: 0, 0, None, 0.
        """
        stats = await self.run(q.campaign_stats(as_uuid(user_id, "user_id")))
        assert stats is not None  # an aggregate without GROUP BY always returns one row
        return stats

    async def delete_campaign(self, id: UUID | str, soft: bool = True) -> None:
        """Delete a campaign: soft by default (hidden from every getter and list).

        ``soft=False`` removes the row (also one already soft-deleted: that is how to purge)
        and, by cascade, its experiments. Conversions are revenue records: while the
        campaign has any, the hard delete is refused (ON DELETE RESTRICT) and nothing is
        removed; soft-delete it instead.

        Raises:
            NotFoundError: no campaign has this id (soft: no live one).
            ForeignKeyError: a hard delete refused by recorded conversions.
        """
        await self._delete(q.soft_delete_campaign, q.hard_delete_campaign, soft, "campaign",
                           id)
