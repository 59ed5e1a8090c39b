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

-- name: meta_server_version
-- The server's version string for health().
SELECT current_setting('server_version');

-- name: meta_wal_lsn
-- Read-your-writes: the primary's WAL insert position (bytes) after a write; a replica that
-- has replayed this far holds the write.
SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint;

-- name: meta_replica_status
-- Read routing: whether the server is still a standby, how far it has replayed (bytes) and
-- how old its data is (seconds; 0 when it has replayed everything it received, NULL on a
-- primary). The age is conservative: after an idle spell, the first commit waiting to be
-- replayed counts from the last one replayed.
SELECT pg_is_in_recovery() AS in_recovery,
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replay_lsn,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
       END AS lag;

-- name: meta_backend_pid
-- Which server process runs this session's statements: two client connections that report
-- the same one share server sessions (a pooler in transaction mode).
SELECT pg_backend_pid();
