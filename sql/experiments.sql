-- A/B experiments inside campaigns. An experiment has no soft delete of its own: it is
-- visible exactly while its campaign is live (the join on campaigns below).

-- name: create_experiment
-- Insert a RUNNING experiment into a live campaign; returns nothing when the campaign is
-- missing or deleted. $3 is the variants, a JSON array of objects with unique "id"s.
INSERT INTO experiments (campaign_id, name, variants)
SELECT id, $2::text, $3::jsonb
FROM campaigns
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, campaign_id, name, status, variants, winner_variant_id, confidence,
          completed_at, created_at, updated_at;

-- name: get_experiment_by_id
-- An experiment of a live campaign, by id.
SELECT e.id, e.campaign_id, e.name, e.status, e.variants, e.winner_variant_id, e.confidence,
       e.completed_at, e.created_at, e.updated_at
FROM experiments e
JOIN campaigns c ON c.id = e.campaign_id AND c.deleted_at IS NULL
WHERE e.id = $1;

-- name: list_experiments
-- A page of a live campaign's experiments, oldest first (served by
-- experiments_campaign_id_idx): skip $2, take $3.
SELECT e.id, e.campaign_id, e.name, e.status, e.variants, e.winner_variant_id, e.confidence,
       e.completed_at, e.created_at, e.updated_at
FROM experiments e
JOIN campaigns c ON c.id = e.campaign_id AND c.deleted_at IS NULL
WHERE e.campaign_id = $1
ORDER BY e.created_at, e.id
OFFSET $2 LIMIT $3;

-- name: select_experiment_winner
-- Decide a RUNNING experiment: $2 must be the "id" of one of its variants. All conditions
-- sit in one UPDATE, so two concurrent deciders cannot both win: the second re-checks
-- status = 'RUNNING' on the row the first committed, and updates nothing.
UPDATE experiments e
SET status = 'COMPLETED', winner_variant_id = $2, confidence = $3, completed_at = now()
FROM campaigns c
WHERE e.id = $1
  AND e.status = 'RUNNING'
  AND e.variants @> jsonb_build_array(jsonb_build_object('id', $2::text))
  AND c.id = e.campaign_id AND c.deleted_at IS NULL
RETURNING e.id, e.campaign_id, e.name, e.status, e.variants, e.winner_variant_id,
          e.confidence, e.completed_at, e.created_at, e.updated_at;
