"""The rows the report statements return: only the fields each caller needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from gatewaydb.gateway.models import AssetStatus


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScoredClip(_Row):
    """A clip reduced to what a ranking shows."""

    id: UUID
    score: float


class AssetWithBestClips(_Row):
    """An asset, its best clips and its owner's name and email (Prisma's ``include``)."""

    id: UUID
    filename: str
    status: AssetStatus
    owner_name: str | None
    owner_email: str
    clips: list[ScoredClip]


class ClipWithFilename(_Row):
    """A clip's id and score, with its asset's filename: three columns, not twenty."""

    id: UUID
    score: float | None
    filename: str


class UserSummary(_Row):
    """``select: {id, name, email}``."""

    id: UUID
    name: str | None
    email: str


class DailyRevenue(_Row):
    """One UTC day of a campaign's conversions."""

    day: date
    conversions: int
    revenue: Decimal
