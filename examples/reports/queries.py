"""Declarations of ``sql/reports.sql``: each stub is named and typed like its statement."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gatewaydb import command, rows, value
from gatewaydb.gateway.models import AssetStatus

from .models import AssetWithBestClips, ClipWithFilename, DailyRevenue, UserSummary


@rows(AssetWithBestClips)
def ready_assets_with_best_clips(user_id: UUID, status: AssetStatus = AssetStatus.READY,
                                 min_score: float = 0.8, clips_per_asset: int = 5,
                                 skip: int = 0, take: int = 20) -> None:
    """A user's assets in ``status``, each with its best clips and its owner."""


@rows(ClipWithFilename)
def clips_with_filenames(user_id: UUID, skip: int = 0, take: int = 100) -> None:
    """A user's live clips: id, score and the asset's filename only."""


@rows(UserSummary)
def user_summaries(skip: int = 0, take: int = 100) -> None:
    """Live users: id, name and email only."""


@rows(DailyRevenue)
def campaign_revenue_by_day(campaign_id: UUID, start: datetime, end: datetime) -> None:
    """A campaign's conversions and revenue per UTC day in ``[start, end)``."""


@value(int)
def count_assets(user_id: UUID, status: AssetStatus) -> None:
    """How many live assets a user has in ``status``."""


@command()
def archive_failed_assets(user_id: UUID) -> None:
    """Soft-delete a user's FAILED assets; the tag says how many (``UPDATE 2``)."""
