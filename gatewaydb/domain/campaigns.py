"""Campaigns (SQL: ``sql/campaigns.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["CampaignsAPI"]


class CampaignsAPI(DomainAPI):
    """Campaigns operations."""

    __slots__ = ()
