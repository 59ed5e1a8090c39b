"""The Gateway API's statement declarations, one per ``-- name:`` in ``sql/<domain>.sql``.

Each stub is named like its statement and typed like its ``$1..$n``; the decorator says what
it returns. The domain modules run them with ``self.run(queries.name(...))``, exactly as a
service runs its own (README, "Your own queries"). Constraint → field maps live here, with
the statements that can raise them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ..core import row, rows, value
from .models import (
    Asset,
    AssetStatus,
    AssetWithClips,
    Campaign,
    CampaignObjective,
    CampaignStats,
    CampaignStatus,
    Clip,
    ClipStatus,
    Conversion,
    ConversionSource,
    Experiment,
    Prediction,
    Role,
    User,
)

_USER_KEYS = {"users_email_key": "email", "users_api_key_digest_key": "api_key"}
_CAMPAIGN_KEYS = {"campaigns_meta_campaign_id_key": "meta_campaign_id",
                  "campaigns_google_campaign_id_key": "google_campaign_id",
                  "campaigns_date_order": "end_date"}
#: Constraints a clip insert can hit, for create_clip and create_clips' COPY.
CLIP_KEYS = {"clips_time_order": "end_time"}

# -- users.sql ---------------------------------------------------------------------------


@row(User, redact=True, constraints=_USER_KEYS)
def create_user(email: str, name: str | None, role: Role, api_key_digest: bytes | None,
                settings: dict[str, Any]) -> None: ...
@row(User)
def get_user_by_id(id: UUID) -> None: ...
@row(User)
def get_user_by_email(email: str) -> None: ...
@row(User, redact=True)
def get_user_by_api_key(api_key_digest: bytes) -> None: ...
@row(User, constraints=_USER_KEYS)
def update_user(id: UUID, given: list[str], email: str | None, name: str | None,
                role: Role | None, settings: dict[str, Any] | None) -> None: ...
@value(UUID)
def soft_delete_user(id: UUID) -> None: ...
@value(UUID)
def hard_delete_user(id: UUID) -> None: ...
@rows(User)
def list_users(skip: int, take: int, role: Role | None) -> None: ...
@value(UUID, redact=True, constraints=_USER_KEYS)
def rotate_api_key(id: UUID, api_key_digest: bytes) -> None: ...

# -- assets.sql --------------------------------------------------------------------------


@row(Asset)
def create_asset(user_id: UUID, filename: str, original_name: str | None,
                 mime_type: str | None, file_size: int | None, gcs_url: str,
                 gcs_bucket: str | None, gcs_path: str | None, duration: float | None,
                 width: int | None, height: int | None) -> None: ...
@row(Asset)
def get_asset_by_id(id: UUID) -> None: ...
@row(Asset)
def update_asset_status(id: UUID, status: AssetStatus) -> None: ...
@value(UUID)
def soft_delete_asset(id: UUID) -> None: ...
@value(UUID)
def hard_delete_asset(id: UUID) -> None: ...
@rows(AssetWithClips)
def list_assets(user_id: UUID, status: AssetStatus | None, skip: int, take: int,
                clips_min_score: float | None, clips_per_asset: int) -> None: ...

# -- clips.sql ---------------------------------------------------------------------------


@row(Clip, constraints=CLIP_KEYS)
def create_clip(asset_id: UUID, start_time: float, end_time: float, duration: float,
                features: dict[str, Any], has_text: bool, has_speech: bool) -> None: ...
@value(list[UUID])
def live_asset_ids(asset_ids: list[UUID]) -> None: ...
@row(Clip)
def get_clip_by_id(id: UUID) -> None: ...
@row(Clip)
def update_clip_scoring(id: UUID, score: float, viral_score: float | None,
                        engagement_score: float | None, rank: int | None,
                        status: ClipStatus) -> None: ...
@rows(Clip)
def get_top_clips(asset_id: UUID, min_score: float, limit: int) -> None: ...
@rows(Clip)
def list_clips(skip: int, take: int, asset_id: UUID | None,
               status: ClipStatus | None) -> None: ...
@value(UUID)
def soft_delete_clip(id: UUID) -> None: ...
@value(UUID)
def hard_delete_clip(id: UUID) -> None: ...

# -- campaigns.sql -----------------------------------------------------------------------


@row(Campaign, constraints=_CAMPAIGN_KEYS)
def create_campaign(user_id: UUID, name: str, objective: CampaignObjective, budget: Decimal,
                    daily_budget: Decimal | None, status: CampaignStatus,
                    meta_campaign_id: str | None, google_campaign_id: str | None,
                    target_audience: dict[str, Any], start_date: datetime | None,
                    end_date: datetime | None) -> None: ...
@row(Campaign)
def get_campaign_by_id(id: UUID) -> None: ...
@rows(Campaign)
def list_campaigns(user_id: UUID, skip: int, take: int,
                   status: CampaignStatus | None) -> None: ...
@row(Campaign, constraints=_CAMPAIGN_KEYS)
def update_campaign(id: UUID, given: list[str], name: str | None,
                    objective: CampaignObjective | None, budget: Decimal | None,
                    daily_budget: Decimal | None, status: CampaignStatus | None,
                    meta_campaign_id: str | None, google_campaign_id: str | None,
                    target_audience: dict[str, Any] | None, start_date: datetime | None,
                    end_date: datetime | None) -> None: ...
@row(Campaign)
def update_campaign_metrics(id: UUID, total_spend: Decimal | None,
                            total_impressions: int | None, total_clicks: int | None,
                            total_conversions: int | None) -> None: ...
@row(Campaign)
def increment_campaign_metrics(id: UUID, spend: Decimal, impressions: int, clicks: int,
                               conversions: int) -> None: ...
@row(CampaignStats)
def campaign_stats(user_id: UUID) -> None: ...
@value(UUID)
def soft_delete_campaign(id: UUID) -> None: ...
@value(UUID)
def hard_delete_campaign(id: UUID) -> None: ...

# -- experiments.sql ---------------------------------------------------------------------


@row(Experiment)
def create_experiment(campaign_id: UUID, name: str,
                      variants: list[dict[str, Any]]) -> None: ...
@row(Experiment)
def get_experiment_by_id(id: UUID) -> None: ...
@rows(Experiment)
def list_experiments(campaign_id: UUID, skip: int, take: int) -> None: ...
@row(Experiment)
def select_experiment_winner(id: UUID, variant_id: str, confidence: float) -> None: ...

# -- predictions.sql ---------------------------------------------------------------------


@row(Prediction)
def create_prediction(clip_id: UUID, model_version: str, predicted_roas: float | None,
                      predicted_ctr: float | None, predicted_cpc: float | None,
                      features: dict[str, Any], confidence: float | None) -> None: ...
@row(Prediction)
def get_prediction_by_id(id: UUID) -> None: ...
@rows(Prediction)
def list_predictions(clip_id: UUID, skip: int, take: int) -> None: ...
@row(Prediction)
def update_prediction_actuals(id: UUID, actual_roas: float | None, actual_ctr: float | None,
                              actual_cpc: float | None,
                              prediction_error: float | None) -> None: ...

# -- conversions.sql ---------------------------------------------------------------------


@row(Conversion, constraints={"conversions_source_external_id_key": "external_id"})
def create_conversion(campaign_id: UUID, source: ConversionSource, value: Decimal,
                      timestamp: datetime, external_id: str | None, currency: str,
                      attributed_clip_id: UUID | None) -> None: ...
@rows(Conversion)
def list_conversions(campaign_id: UUID, start_date: datetime | None,
                     end_date: datetime | None, take: int | None) -> None: ...
@rows(Conversion)
def list_conversions_after_cursor(campaign_id: UUID, after_timestamp: datetime,
                                  after_id: UUID, end_date: datetime | None,
                                  take: int | None) -> None: ...
@rows(Conversion)
def iter_conversions(campaign_id: UUID, start_date: datetime | None,
                     end_date: datetime | None) -> None: ...
