-- Statements the gatewaydb core runs itself (declared in gatewaydb/core/meta.py).

-- name: meta_enum_labels
-- The labels of the named enum types, in their declared order.
SELECT t.typname::text AS typname,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typname = ANY($1::text[])
  AND t.typnamespace = 'public'::regnamespace
GROUP BY t.typname;

-- name: meta_ping
-- The cheapest round trip: liveness and latency for health().
SELECT 1;

-- name: meta_server_version
-- The server's version string, for health() (alone where _yoyo_migration cannot be read).
SELECT current_setting('server_version');
