-- Statements gatewaydb itself runs: the contract check and health reports.

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

-- name: meta_health
-- health() in one round trip: the server's version and the migrations yoyo has recorded.
-- Fails with 42P01 where yoyo has not created its table yet (then nothing is applied) and
-- 42501 where this role may not read it; health() then asks meta_server_version alone.
SELECT current_setting('server_version') AS server_version,
       array(SELECT migration_id FROM _yoyo_migration ORDER BY migration_id)
           AS applied_migrations;

-- name: meta_server_version
-- The server's version string, for health() where _yoyo_migration cannot be read.
SELECT current_setting('server_version');
