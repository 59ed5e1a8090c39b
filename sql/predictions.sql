-- ML predictions per clip and the actual results measured later. Predictions have no
-- soft delete; they disappear only with their clip's hard delete (ON DELETE CASCADE).

-- name: create_prediction
-- Insert a prediction for a live clip; no row when the clip is missing or soft-deleted.
-- Parameters are cast because an INSERT ... SELECT does not infer their types.
INSERT INTO predictions (clip_id, model_version, predicted_roas, predicted_ctr,
                         predicted_cpc, features, confidence)
SELECT c.id, $2::text, $3::float8, $4::float8, $5::float8, $6::jsonb, $7::float8
FROM clips c
WHERE c.id = $1 AND c.deleted_at IS NULL
RETURNING id, clip_id, model_version, predicted_roas, predicted_ctr, predicted_cpc, features,
          confidence, actual_roas, actual_ctr, actual_cpc, prediction_error, created_at,
          updated_at;

-- name: get_prediction_by_id
-- A prediction by id.
SELECT id, clip_id, model_version, predicted_roas, predicted_ctr, predicted_cpc, features,
       confidence, actual_roas, actual_ctr, actual_cpc, prediction_error, created_at,
       updated_at
FROM predictions
WHERE id = $1;

-- name: list_predictions
-- A page of a clip's predictions, newest first (served by predictions_clip_id_idx).
SELECT id, clip_id, model_version, predicted_roas, predicted_ctr, predicted_cpc, features,
       confidence, actual_roas, actual_ctr, actual_cpc, prediction_error, created_at,
       updated_at
FROM predictions
WHERE clip_id = $1
ORDER BY created_at DESC, id DESC
OFFSET $2 LIMIT $3;

-- name: update_prediction_actuals
-- Record measured results; a NULL parameter leaves its field as it is.
UPDATE predictions
SET actual_roas      = COALESCE($2, actual_roas),
    actual_ctr       = COALESCE($3, actual_ctr),
    actual_cpc       = COALESCE($4, actual_cpc),
    prediction_error = COALESCE($5, prediction_error)
WHERE id = $1
RETURNING id, clip_id, model_version, predicted_roas, predicted_ctr, predicted_cpc, features,
          confidence, actual_roas, actual_ctr, actual_cpc, prediction_error, created_at,
          updated_at;
