-- Users and API-key authentication. The key itself is never stored: $n "api_key_digest"
-- parameters are SHA-256 digests computed by gatewaydb/domain/users.py.

-- name: create_user
-- Insert a user; returns the stored row.
INSERT INTO users (email, name, role, api_key_digest, settings)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, email, name, role, api_key_digest IS NOT NULL AS has_api_key, settings,
          created_at, updated_at, deleted_at;

-- name: get_user_by_id
-- A live (not soft-deleted) user by id.
SELECT id, email, name, role, api_key_digest IS NOT NULL AS has_api_key, settings,
       created_at, updated_at, deleted_at
FROM users
WHERE id = $1 AND deleted_at IS NULL;

-- name: get_user_by_email
-- A live user by email, whatever its case (served by users_email_key on lower(email)).
SELECT id, email, name, role, api_key_digest IS NOT NULL AS has_api_key, settings,
       created_at, updated_at, deleted_at
FROM users
WHERE lower(email) = lower($1) AND deleted_at IS NULL;

-- name: get_user_by_api_key
-- Authenticate: the live user whose API key has this SHA-256 digest.
SELECT id, email, name, role, TRUE AS has_api_key, settings,
       created_at, updated_at, deleted_at
FROM users
WHERE api_key_digest = $1 AND deleted_at IS NULL;

-- name: update_user
-- Set the fields named in $2 (others keep their value); NULL-able fields can be cleared.
UPDATE users
SET email    = CASE WHEN 'email'    = ANY($2::text[]) THEN $3 ELSE email END,
    name     = CASE WHEN 'name'     = ANY($2::text[]) THEN $4 ELSE name END,
    role     = CASE WHEN 'role'     = ANY($2::text[]) THEN $5 ELSE role END,
    settings = CASE WHEN 'settings' = ANY($2::text[]) THEN $6 ELSE settings END
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, email, name, role, api_key_digest IS NOT NULL AS has_api_key, settings,
          created_at, updated_at, deleted_at;

-- name: soft_delete_user
-- Mark a live user deleted; returns its id, or nothing if it was missing or deleted.
UPDATE users SET deleted_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING id;

-- name: hard_delete_user
-- Remove a user; assets, clips, campaigns and experiments go with it (ON DELETE CASCADE),
-- and the foreign key from conversions refuses it while any of its campaigns has some.
DELETE FROM users WHERE id = $1 RETURNING id;

-- name: list_users
-- A page of live users, oldest first, optionally of one role.
SELECT id, email, name, role, api_key_digest IS NOT NULL AS has_api_key, settings,
       created_at, updated_at, deleted_at
FROM users
WHERE deleted_at IS NULL AND ($3::user_role IS NULL OR role = $3)
ORDER BY created_at, id
OFFSET $1 LIMIT $2;

-- name: rotate_api_key
-- Replace a live user's API key digest; the old key stops working at once.
UPDATE users SET api_key_digest = $2
WHERE id = $1 AND deleted_at IS NULL
RETURNING id;
