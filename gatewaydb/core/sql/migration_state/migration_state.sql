-- The migration state of a database whose schema yoyo manages (declared in
-- gatewaydb/core/migration_state.py); loaded only by a Database given migrations_path=.

-- name: migration_state
-- health() in one round trip: the server's version and the migrations yoyo has recorded.
-- Fails with 42P01 where yoyo has not created its table yet (then nothing is applied) and
-- 42501 where this role may not read it; health() then asks meta_server_version alone.
SELECT current_setting('server_version') AS server_version,
       array(SELECT migration_id FROM _yoyo_migration ORDER BY migration_id)
           AS applied_migrations;
