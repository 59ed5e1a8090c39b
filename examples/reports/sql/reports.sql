-- A reporting service's own statements on the Gateway schema. Declared in
-- examples/reports/queries.py; run with db.run(queries.<name>(...)).

-- name: ready_assets_with_best_clips
-- The seed's "Advanced Queries": a page of a user's live assets in status $2, newest first,
-- each with its best live clips (score >= $3, best first, at most $4) and its owner's name
-- and email. One round trip whatever the page size.
SELECT a.id, a.filename, a.status, u.name AS owner_name, u.email AS owner_email,
       COALESCE(best.clips, '[]'::json) AS clips
FROM assets a
JOIN users u ON u.id = a.user_id
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('id', c.id, 'score', c.score)
                    ORDER BY c.score DESC, c.id) AS clips
    FROM (SELECT id, score FROM clips
          WHERE asset_id = a.id AND deleted_at IS NULL AND score >= $3
          ORDER BY score DESC, id
          LIMIT $4) c
) best ON true
WHERE a.user_id = $1 AND a.status = $2 AND a.deleted_at IS NULL
ORDER BY a.created_at DESC, a.id
OFFSET $5 LIMIT $6;

-- name: clips_with_filenames
-- "Select Only Needed Fields": a user's live clips as id, score and their asset's filename,
-- best first (unscored last).
SELECT c.id, c.score, a.filename
FROM clips c
JOIN assets a ON a.id = c.asset_id
WHERE a.user_id = $1 AND c.deleted_at IS NULL
ORDER BY c.score DESC NULLS LAST, c.id
OFFSET $2 LIMIT $3;

-- name: user_summaries
-- "Select Only Needed Fields": live users as id, name and email, oldest first.
SELECT id, name, email
FROM users
WHERE deleted_at IS NULL
ORDER BY created_at, id
OFFSET $1 LIMIT $2;

-- name: campaign_revenue_by_day
-- A campaign's conversions and revenue per UTC day in [$2, $3).
SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day,
       count(*) AS conversions,
       sum(value) AS revenue
FROM conversions
WHERE campaign_id = $1 AND "timestamp" >= $2 AND "timestamp" < $3
GROUP BY 1
ORDER BY 1;

-- name: count_assets
-- How many live assets user $1 has in status $2.
SELECT count(*) FROM assets WHERE user_id = $1 AND status = $2 AND deleted_at IS NULL;

-- name: archive_failed_assets
-- Soft-delete user $1's live FAILED assets.
UPDATE assets SET deleted_at = now()
WHERE user_id = $1 AND status = 'FAILED' AND deleted_at IS NULL;
