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

-- name: meta_wal_lsn
-- Read-your-writes: the primary's WAL insert position (bytes) after a write; a replica that
-- has replayed this far holds the write.
SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint;

-- name: meta_replica_status
-- Read routing: whether the server is still a standby, and how far it has replayed (bytes;
-- NULL on a primary). The router turns the position into a lag in seconds by comparing it
-- with the primary's positions it polled (meta_wal_lsn), so an idle spell never counts.
SELECT pg_is_in_recovery() AS in_recovery,
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replay_lsn;

-- name: meta_backend_pid
-- Which server process runs this session's statements: two client connections that report
-- the same one share server sessions (a pooler in transaction mode).
SELECT pg_backend_pid();
