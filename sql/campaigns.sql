-- Ad campaigns and their delivery totals. Every statement sees only live (not soft-deleted)
-- campaigns, except hard_delete_campaign, which can also purge a soft-deleted one.

-- name: create_campaign
-- Insert a campaign for a live user; returns nothing when the user is missing or deleted.
INSERT INTO campaigns (user_id, name, objective, budget, daily_budget, status,
                       meta_campaign_id, google_campaign_id, target_audience,
                       start_date, end_date)
SELECT id, $2::text, $3::campaign_objective, $4::numeric, $5::numeric, $6::campaign_status,
       $7::text, $8::text, $9::jsonb, $10::timestamptz, $11::timestamptz
FROM users
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
          google_campaign_id, target_audience, start_date, end_date, total_spend,
          total_impressions, total_clicks, total_conversions, created_at, updated_at,
          deleted_at;

-- name: get_campaign_by_id
-- A live campaign by id.
SELECT id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
       google_campaign_id, target_audience, start_date, end_date, total_spend,
       total_impressions, total_clicks, total_conversions, created_at, updated_at, deleted_at
FROM campaigns
WHERE id = $1 AND deleted_at IS NULL;

-- name: list_campaigns
-- A page of a user's live campaigns, newest first, optionally of one status
-- (served by campaigns_user_id_idx; a user's campaigns are few, the sort is in memory).
SELECT id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
       google_campaign_id, target_audience, start_date, end_date, total_spend,
       total_impressions, total_clicks, total_conversions, created_at, updated_at, deleted_at
FROM campaigns
WHERE user_id = $1 AND deleted_at IS NULL AND ($4::campaign_status IS NULL OR status = $4)
ORDER BY created_at DESC, id DESC
OFFSET $2 LIMIT $3;

-- name: update_campaign
-- Set the fields named in $2 (others keep their value); NULL-able fields can be cleared.
-- target_audience is NOT NULL: clearing it stores the empty object, the column's default.
UPDATE campaigns
SET name               = CASE WHEN 'name' = ANY($2::text[]) THEN $3 ELSE name END,
    objective          = CASE WHEN 'objective' = ANY($2::text[]) THEN $4 ELSE objective END,
    budget             = CASE WHEN 'budget' = ANY($2::text[]) THEN $5 ELSE budget END,
    daily_budget       = CASE WHEN 'daily_budget' = ANY($2::text[]) THEN $6
                              ELSE daily_budget END,
    status             = CASE WHEN 'status' = ANY($2::text[]) THEN $7 ELSE status END,
    meta_campaign_id   = CASE WHEN 'meta_campaign_id' = ANY($2::text[]) THEN $8
                              ELSE meta_campaign_id END,
    google_campaign_id = CASE WHEN 'google_campaign_id' = ANY($2::text[]) THEN $9
                              ELSE google_campaign_id END,
    target_audience    = CASE WHEN 'target_audience' = ANY($2::text[])
                              THEN COALESCE($10, '{}'::jsonb) ELSE target_audience END,
    start_date         = CASE WHEN 'start_date' = ANY($2::text[]) THEN $11 ELSE start_date END,
    end_date           = CASE WHEN 'end_date' = ANY($2::text[]) THEN $12 ELSE end_date END
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
          google_campaign_id, target_audience, start_date, end_date, total_spend,
          total_impressions, total_clicks, total_conversions, created_at, updated_at,
          deleted_at;

-- name: update_campaign_metrics
-- Overwrite the totals reported by the ad platform; a NULL leaves that total unchanged.
UPDATE campaigns
SET total_spend       = COALESCE($2, total_spend),
    total_impressions = COALESCE($3, total_impressions),
    total_clicks      = COALESCE($4, total_clicks),
    total_conversions = COALESCE($5, total_conversions)
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
          google_campaign_id, target_audience, start_date, end_date, total_spend,
          total_impressions, total_clicks, total_conversions, created_at, updated_at,
          deleted_at;

-- name: increment_campaign_metrics
-- Add deltas to the totals. Each new value is computed from the row as locked by this
-- UPDATE, so concurrent increments serialize on the row lock and none is lost.
UPDATE campaigns
SET total_spend       = total_spend + $2,
    total_impressions = total_impressions + $3,
    total_clicks      = total_clicks + $4,
    total_conversions = total_conversions + $5
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, user_id, name, objective, budget, daily_budget, status, meta_campaign_id,
          google_campaign_id, target_audience, start_date, end_date, total_spend,
          total_impressions, total_clicks, total_conversions, created_at, updated_at,
          deleted_at;

-- name: campaign_stats
-- The seed's aggregate over a user's live campaigns. An aggregate without GROUP BY always
-- yields one row: with no campaigns the sums are 0 (COALESCE), the average NULL, count 0.
-- sum(bigint) is numeric in PostgreSQL; the cast brings the conversions total back to int8.
SELECT COALESCE(sum(total_spend), 0)                 AS total_spend_sum,
       COALESCE(sum(total_conversions), 0)::bigint    AS total_conversions_sum,
       avg(total_spend)                              AS total_spend_avg,
       count(*)                                      AS campaign_count
FROM campaigns
WHERE user_id = $1 AND deleted_at IS NULL;

-- name: soft_delete_campaign
-- Mark a live campaign deleted; returns its id, or nothing if it was missing or deleted.
UPDATE campaigns SET deleted_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING id;

-- name: hard_delete_campaign
-- Remove a campaign (live or soft-deleted); its experiments go with it (ON DELETE CASCADE),
-- and the foreign key from conversions (ON DELETE RESTRICT) refuses it while it has any.
DELETE FROM campaigns WHERE id = $1 RETURNING id;
