"""Every Pydantic model gatewaydb returns or accepts, in one place.

Result models (``User``, ``Clip``, ...) are immutable snapshots of rows; their fields are the
seed service's, in snake_case, and the contract check proves at connect time that each
statement's columns match them in name and type. Input models (``NewUser``, ``ClipScoring``,
...) validate arguments before any SQL runs; every domain method accepts one in place of
keyword arguments. Every string an input model accepts is text PostgreSQL can hold (no NUL, no
lone surrogate), every JSON field holds only JSON (finite numbers, string keys; see
:mod:`gatewaydb.core.checks`), every datetime is timezone-aware, and an API key is a
:class:`~pydantic.SecretStr`, so ``repr`` and ``str`` of the model never show it.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, NamedTuple
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..core import (
    ContractState,
    HealthReport,
    HealthStatus,
    PoolStatus,
    ServerHealth,
    ServerStatus,
)
from ..core.checks import check_json, check_text

__all__ = [
    "Asset",
    "AssetOwner",
    "AssetStatus",
    "AssetWithClips",
    "Campaign",
    "CampaignMetrics",
    "CampaignObjective",
    "CampaignStats",
    "CampaignStatus",
    "CampaignUpdate",
    "Clip",
    "ClipScoring",
    "ClipStatus",
    "ContractState",
    "Conversion",
    "ConversionCursor",
    "ConversionSource",
    "Experiment",
    "ExperimentStatus",
    "HealthReport",
    "HealthStatus",
    "MetricsDelta",
    "NewAsset",
    "NewCampaign",
    "NewClip",
    "NewConversion",
    "NewExperiment",
    "NewPrediction",
    "NewUser",
    "PoolStatus",
    "Prediction",
    "PredictionActuals",
    "Role",
    "ServerHealth",
    "ServerStatus",
    "User",
    "UserUpdate",
    "Variant",
]


class Role(StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"
    ENTERPRISE = "ENTERPRISE"


class AssetStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class ClipStatus(StrEnum):
    PENDING = "PENDING"
    SCORED = "SCORED"
    FAILED = "FAILED"


class CampaignObjective(StrEnum):
    AWARENESS = "AWARENESS"
    TRAFFIC = "TRAFFIC"
    ENGAGEMENT = "ENGAGEMENT"
    LEADS = "LEADS"
    CONVERSIONS = "CONVERSIONS"
    SALES = "SALES"
    APP_PROMOTION = "APP_PROMOTION"


class CampaignStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"


class ExperimentStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ConversionSource(StrEnum):
    META = "META"
    GOOGLE = "GOOGLE"
    TIKTOK = "TIKTOK"
    MANUAL = "MANUAL"


# ---------------------------------------------------------------------------------------------
# Field types shared by inputs
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Any string bound for a text column: PostgreSQL text cannot hold NUL or a lone surrogate.
PgStr = Annotated[str, AfterValidator(check_text)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Counter = Annotated[int, Field(ge=0, le=2**63 - 1)]
Text = Annotated[PgStr, Field(min_length=1, max_length=10_000)]
#: An ad platform's id, kept under a unique index: a btree entry holds at most ~2,700 bytes,
#: which 200 characters never exceed (a longer value would fail as an index error).
PlatformId = Annotated[PgStr, Field(min_length=1, max_length=200)]
#: A JSON object as rows return it.
JsonObject = dict[str, Any]
#: A JSON object as inputs accept it: only JSON's types, finite numbers, storable text.
#: Checked before Pydantic's dict validation, whose errors would quote a bad key.
JsonInput = Annotated[dict[str, Any], BeforeValidator(check_json)]


def _check_secret(value: SecretStr) -> SecretStr:
    check_text(value.get_secret_value())
    return value


#: An API key as inputs accept it: masked in repr/str, 8 to 512 characters of storable text.
ApiKey = Annotated[SecretStr, Field(min_length=8, max_length=512), AfterValidator(_check_secret)]


class _Row(BaseModel):
    """A row read from the database: immutable, every field checked against the schema."""

    model_config = ConfigDict(frozen=True)


class _Input(BaseModel):
    """Arguments to validate before any SQL runs; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Users


class User(_Row):
    """A user account. The API key itself is never stored or returned; ``has_api_key`` says
    whether one is set."""

    id: UUID
    email: str
    name: str | None
    role: Role
    has_api_key: bool
    settings: JsonObject
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


def _check_email(value: str) -> str:
    if len(value) > 320 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return check_text(value)


class NewUser(_Input):
    """A user to create; ``api_key`` is kept as a SecretStr (``.get_secret_value()``)."""

    email: str
    name: Text | None = None
    role: Role = Role.USER
    api_key: ApiKey | None = None
    settings: JsonInput | None = None

    _email = field_validator("email")(_check_email)


class UserUpdate(_Input):
    """Fields ``update_user`` may change; those left out stay as they are."""

    email: str | None = None
    name: Text | None = None
    role: Role | None = None
    settings: JsonInput | None = None

    _email = field_validator("email")(lambda v: v if v is None else _check_email(v))


# ---------------------------------------------------------------------------------------------
# Assets and clips


class Asset(_Row):
    """An uploaded video file in Google Cloud Storage."""

    id: UUID
    user_id: UUID
    filename: str
    original_name: str | None
    mime_type: str | None
    file_size: int | None
    gcs_url: str
    gcs_bucket: str | None
    gcs_path: str | None
    duration: float | None
    width: int | None
    height: int | None
    status: AssetStatus
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class NewAsset(_Input):
    user_id: UUID
    filename: Text
    gcs_url: Text
    original_name: Text | None = None
    mime_type: Text | None = None
    file_size: Counter | None = None
    gcs_bucket: Text | None = None
    gcs_path: Text | None = None
    duration: NonNegativeFloat | None = None
    width: Annotated[int, Field(gt=0, le=2**31 - 1)] | None = None
    height: Annotated[int, Field(gt=0, le=2**31 - 1)] | None = None


class Clip(_Row):
    """A scored segment of an asset."""

    id: UUID
    asset_id: UUID
    start_time: float
    end_time: float
    duration: float | None
    features: JsonObject
    has_text: bool
    has_speech: bool
    score: float | None
    viral_score: float | None
    engagement_score: float | None
    rank: int | None
    status: ClipStatus
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class AssetOwner(_Row):
    """The owner of an asset, as ``list_assets`` embeds it."""

    name: str | None
    email: str


class AssetWithClips(Asset):
    """An asset with its best clips (score descending) and its owner."""

    clips: list[Clip]
    user: AssetOwner


class NewClip(_Input):
    asset_id: UUID
    start_time: NonNegativeFloat
    end_time: NonNegativeFloat
    duration: NonNegativeFloat | None = None
    features: JsonInput | None = None
    has_text: bool = False
    has_speech: bool = False

    # A field validator (not a model one) so the error names end_time, and
    # create_clips can report it as "clips[3].end_time".
    @field_validator("end_time")
    @classmethod
    def _end_after_start(cls, end_time: float, info: ValidationInfo) -> float:
        start_time = info.data.get("start_time")
        if start_time is not None and end_time <= start_time:
            raise ValueError("end_time must be greater than start_time")
        return end_time


class ClipScoring(_Input):
    score: Unit
    viral_score: Unit | None = None
    engagement_score: Unit | None = None
    rank: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    status: ClipStatus = ClipStatus.SCORED


# ---------------------------------------------------------------------------------------------
# Campaigns and experiments


class Campaign(_Row):
    """An ad campaign on Meta or Google, with its delivery totals."""

    id: UUID
    user_id: UUID
    name: str
    objective: CampaignObjective
    budget: Decimal
    daily_budget: Decimal | None
    status: CampaignStatus
    meta_campaign_id: str | None
    google_campaign_id: str | None
    target_audience: JsonObject
    start_date: datetime | None
    end_date: datetime | None
    total_spend: Decimal
    total_impressions: int
    total_clicks: int
    total_conversions: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class NewCampaign(_Input):
    user_id: UUID
    name: Text
    objective: CampaignObjective
    budget: Money
    daily_budget: Money | None = None
    meta_campaign_id: PlatformId | None = None
    google_campaign_id: PlatformId | None = None
    target_audience: JsonInput | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    status: CampaignStatus = CampaignStatus.DRAFT

    # A field validator (not a model one) so the error names end_date.
    @field_validator("end_date")
    @classmethod
    def _dates_in_order(cls, end_date: datetime | None,
                        info: ValidationInfo) -> datetime | None:
        start_date = info.data.get("start_date")
        if start_date is not None and end_date is not None and end_date < start_date:
            raise ValueError("end_date must not be before start_date")
        return end_date


class CampaignUpdate(_Input):
    """Fields ``update_campaign`` may change; those left out stay as they are."""

    name: Text | None = None
    objective: CampaignObjective | None = None
    budget: Money | None = None
    daily_budget: Money | None = None
    status: CampaignStatus | None = None
    meta_campaign_id: PlatformId | None = None
    google_campaign_id: PlatformId | None = None
    target_audience: JsonInput | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None


class CampaignMetrics(_Input):
    """Totals reported by the ad platform; ``None`` leaves a total unchanged."""

    total_spend: Money | None = None
    total_impressions: Counter | None = None
    total_clicks: Counter | None = None
    total_conversions: Counter | None = None


class MetricsDelta(_Input):
    """Amounts to add to a campaign's totals."""

    spend: Money = Decimal(0)
    impressions: Counter = 0
    clicks: Counter = 0
    conversions: Counter = 0


class CampaignStats(_Row):
    """The seed's campaign aggregate for one user."""

    total_spend_sum: Decimal
    total_conversions_sum: int
    total_spend_avg: Decimal | None
    campaign_count: int


class Variant(BaseModel):
    """One arm of an experiment: an ``id`` plus whatever the variant carries."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Annotated[PgStr, Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _extra_is_json(self) -> Variant:
        # Every key besides ``id`` is stored as given, so it must be storable JSON too.
        check_json(self.model_extra or {})
        return self


class Experiment(_Row):
    """An A/B test inside a campaign."""

    id: UUID
    campaign_id: UUID
    name: str
    status: ExperimentStatus
    variants: list[JsonObject]
    winner_variant_id: str | None
    confidence: float | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NewExperiment(_Input):
    campaign_id: UUID
    name: Text
    variants: Annotated[list[Variant], Field(min_length=2, max_length=100)]

    @field_validator("variants")
    @classmethod
    def _unique_ids(cls, variants: list[Variant]) -> list[Variant]:
        ids = [v.id for v in variants]
        if len(set(ids)) != len(ids):
            raise ValueError("variant ids must be unique")
        return variants


# ---------------------------------------------------------------------------------------------
# Predictions and conversions


class Prediction(_Row):
    """A model's forecast for a clip, later joined by what actually happened."""

    id: UUID
    clip_id: UUID
    model_version: str
    predicted_roas: float | None
    predicted_ctr: float | None
    predicted_cpc: float | None
    features: JsonObject
    confidence: float | None
    actual_roas: float | None
    actual_ctr: float | None
    actual_cpc: float | None
    prediction_error: float | None
    created_at: datetime
    updated_at: datetime


class NewPrediction(_Input):
    clip_id: UUID
    model_version: Annotated[PgStr, Field(min_length=1, max_length=200)]
    predicted_roas: NonNegativeFloat | None = None
    predicted_ctr: Unit | None = None
    predicted_cpc: NonNegativeFloat | None = None
    features: JsonInput | None = None
    confidence: Unit | None = None


class PredictionActuals(_Input):
    actual_roas: NonNegativeFloat | None = None
    actual_ctr: Unit | None = None
    actual_cpc: NonNegativeFloat | None = None
    prediction_error: NonNegativeFloat | None = None


class ConversionCursor(NamedTuple):
    """Where a page of conversions ended: pass it as ``after=`` to get the next page."""

    timestamp: datetime
    id: UUID


class Conversion(_Row):
    """A conversion reported by an ad platform."""

    id: UUID
    campaign_id: UUID
    source: ConversionSource
    external_id: str | None
    value: Decimal
    currency: str
    attributed_clip_id: UUID | None
    timestamp: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def cursor(self) -> ConversionCursor:
        """This row's position in (timestamp, id) order."""
        return ConversionCursor(self.timestamp, self.id)


class NewConversion(_Input):
    campaign_id: UUID
    source: ConversionSource
    value: Money
    timestamp: AwareDatetime
    external_id: Annotated[PgStr, Field(min_length=1, max_length=500)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    attributed_clip_id: UUID | None = None
