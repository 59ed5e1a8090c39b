-- Clips: scored segments of an asset. A clip is hidden once its own deleted_at is set;
-- a soft-deleted asset does not hide its clips (see gatewaydb/domain/clips.py).

-- name: create_clip
-- Insert a clip of a live asset; no row when the asset is missing or soft-deleted.
-- Parameters are cast because an INSERT ... SELECT does not infer their types.
INSERT INTO clips (asset_id, start_time, end_time, duration, features, has_text, has_speech)
SELECT a.id, $2::float8, $3::float8, $4::float8, $5::jsonb, $6::boolean, $7::boolean
FROM assets a
WHERE a.id = $1 AND a.deleted_at IS NULL
RETURNING id, asset_id, start_time, end_time, duration, features, has_text, has_speech,
          score, viral_score, engagement_score, rank, status, created_at, updated_at,
          deleted_at;

-- name: live_asset_ids
-- Before create_clips' COPY: which of the asset ids in $1 are live, so that a missing or
-- soft-deleted asset is refused, by id, before anything is written.
SELECT coalesce(array_agg(id), '{}'::uuid[]) FROM assets
WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL;

-- name: get_clip_by_id
-- A live clip by id.
SELECT id, asset_id, start_time, end_time, duration, features, has_text, has_speech,
       score, viral_score, engagement_score, rank, status, created_at, updated_at, deleted_at
FROM clips
WHERE id = $1 AND deleted_at IS NULL;

-- name: update_clip_scoring
-- Record a live clip's scores: score and status are set, the others only when not NULL.
UPDATE clips
SET score            = $2,
    viral_score      = COALESCE($3, viral_score),
    engagement_score = COALESCE($4, engagement_score),
    rank             = COALESCE($5, rank),
    status           = $6
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, asset_id, start_time, end_time, duration, features, has_text, has_speech,
          score, viral_score, engagement_score, rank, status, created_at, updated_at,
          deleted_at;

-- name: get_top_clips
-- Hot path: an asset's best live clips with score >= $2, best first. Reads
-- clips_top_by_asset_idx (asset_id, score DESC, id) in order and stops after $3 rows.
SELECT id, asset_id, start_time, end_time, duration, features, has_text, has_speech,
       score, viral_score, engagement_score, rank, status, created_at, updated_at, deleted_at
FROM clips
WHERE asset_id = $1 AND deleted_at IS NULL AND score >= $2
ORDER BY score DESC, id
LIMIT $3;

-- name: list_clips
-- A page of live clips, oldest first, optionally of one asset and/or one status.
SELECT id, asset_id, start_time, end_time, duration, features, has_text, has_speech,
       score, viral_score, engagement_score, rank, status, created_at, updated_at, deleted_at
FROM clips
WHERE deleted_at IS NULL
  AND ($3::uuid IS NULL OR asset_id = $3)
  AND ($4::clip_status IS NULL OR status = $4)
ORDER BY created_at, id
OFFSET $1 LIMIT $2;

-- name: soft_delete_clip
-- Mark a live clip deleted; returns its id, or nothing if it was missing or deleted.
UPDATE clips SET deleted_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING id;

-- name: hard_delete_clip
-- Remove a clip (live or soft-deleted); its predictions go with it (ON DELETE CASCADE),
-- conversions attributed to it keep their revenue and lose the attribution (SET NULL).
DELETE FROM clips WHERE id = $1 RETURNING id;
