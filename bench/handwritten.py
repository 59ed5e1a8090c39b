"""The floors' SQL, written by hand for the same results as gatewaydb's calls.

Deliberately not read from gatewaydb's ``sql/``: if a gatewaydb statement gets a worse plan
than what an asyncpg user would write, only gatewaydb's side slows down, and the ratio shows
it. Each statement returns the columns of the model gatewaydb returns, with the same
filters (live rows only, the same order and limits).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from asyncpg import Record
from pydantic import BaseModel

__all__ = ["ASSETS_WITH_CLIPS", "AUTH", "CAMPAIGN_STATS", "CLIP_COPY_COLUMNS", "CONVERSIONS",
           "CREATE_CLIP", "SET_METRICS", "TOP_CLIPS", "validate_rows"]

AUTH: Final = """
SELECT id, email, name, role, TRUE AS has_api_key, settings, created_at, updated_at, deleted_at
FROM users WHERE api_key_digest = $1 AND deleted_at IS NULL
"""

TOP_CLIPS: Final = """
SELECT id, asset_id, start_time, end_time, duration, features, has_text, has_speech, score,
       viral_score, engagement_score, rank, status, created_at, updated_at, deleted_at FROM clips
WHERE asset_id = $1 AND deleted_at IS NULL AND score >= $2
ORDER BY score DESC, id LIMIT $3
"""

#: A live campaign's conversions in [$2, $3): the plain range, as anyone would write it.
CONVERSIONS: Final = """
SELECT id, campaign_id, source, external_id, value, currency, attributed_clip_id, "timestamp",
       created_at, updated_at
FROM conversions
WHERE campaign_id = $1 AND "timestamp" >= $2 AND "timestamp" < $3
  AND EXISTS (SELECT FROM campaigns WHERE id = $1 AND deleted_at IS NULL)
ORDER BY "timestamp", id
"""

ASSETS_WITH_CLIPS: Final = """
SELECT a.id, a.user_id, a.filename, a.original_name, a.mime_type, a.file_size, a.gcs_url,
       a.gcs_bucket, a.gcs_path, a.duration, a.width, a.height, a.status, a.created_at,
       a.updated_at, a.deleted_at,
       json_build_object('name', u.name, 'email', u.email) AS "user",
       (SELECT COALESCE(json_agg(c), '[]'::json) FROM (
            SELECT id, asset_id, start_time, end_time, duration, features, has_text,
                   has_speech, score, viral_score, engagement_score, rank, status,
                   created_at, updated_at, deleted_at
            FROM clips
            WHERE asset_id = a.id AND deleted_at IS NULL
            ORDER BY score DESC NULLS LAST, id LIMIT $3) c) AS clips
FROM (SELECT * FROM assets WHERE user_id = $1 AND deleted_at IS NULL
      ORDER BY created_at DESC, id LIMIT $2) a
JOIN users u ON u.id = a.user_id
ORDER BY a.created_at DESC, a.id
"""

CAMPAIGN_STATS: Final = """
SELECT COALESCE(sum(total_spend), 0) AS total_spend_sum,
       COALESCE(sum(total_conversions), 0)::bigint AS total_conversions_sum,
       avg(total_spend) AS total_spend_avg, count(*) AS campaign_count
FROM campaigns WHERE user_id = $1 AND deleted_at IS NULL
"""

CREATE_CLIP: Final = """
INSERT INTO clips (asset_id, start_time, end_time, duration, features, has_text, has_speech)
SELECT id, $2::float8, $3::float8, $4::float8, $5::jsonb, $6::boolean, $7::boolean
FROM assets WHERE id = $1 AND deleted_at IS NULL
RETURNING id, asset_id, start_time, end_time, duration, features, has_text, has_speech, score,
       viral_score, engagement_score, rank, status, created_at, updated_at, deleted_at
"""

SET_METRICS: Final = """
UPDATE campaigns
SET total_spend = $2, total_impressions = $3, total_clicks = $4, total_conversions = $5
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
          google_campaign_id, target_audience, start_date, end_date, total_spend,
          total_impressions, total_clicks, total_conversions, created_at, updated_at, deleted_at
"""

CLIP_COPY_COLUMNS: Final = ("asset_id", "start_time", "end_time", "duration", "features",
                            "has_text", "has_speech")


def _row(record: Record | Mapping[str, Any], json_columns: tuple[str, ...]) -> dict[str, Any]:
    values = dict(record)
    # The default pool returns json/jsonb as text: a team parses it before validating.
    for column in json_columns:
        if isinstance(values.get(column), str):
            values[column] = json.loads(values[column])
    return values


def validate_rows(model: type[BaseModel], records: list[Record] | Record | None,
                  json_columns: tuple[str, ...] = ()) -> Any:
    """``model.model_validate(dict(record))`` per row: what a team writes without gatewaydb."""
    if records is None:
        return None
    if isinstance(records, list):
        return [model.model_validate(_row(r, json_columns)) for r in records]
    return model.model_validate(_row(records, json_columns))
