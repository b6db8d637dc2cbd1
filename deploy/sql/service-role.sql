-- The service's own role: it may add to the ledger and read it, never change or remove what is recorded.
--
-- Run as the database owner, after `jixiao db migrate` has created the schema (as the owner):
--   psql "$OWNER_DATABASE_URL" -v app_role=jixiao_app -v app_password="'…'" -f deploy/sql/service-role.sql
-- then run the service with DATABASE_URL naming jixiao_app and JIXIAO_CREATE_SCHEMA=false.
--
-- Why both this and the triggers: the triggers refuse UPDATE, DELETE and TRUNCATE from anyone who cannot
-- disable them; this role cannot disable them (it does not own the tables) and has no UPDATE, DELETE or
-- TRUNCATE privilege at all. Only the owner or a superuser could, and `jixiao verify` catches what they change.

CREATE ROLE :app_role LOGIN PASSWORD :app_password;
GRANT USAGE ON SCHEMA public TO :app_role;

-- The log itself, its Merkle tree and its signed checkpoints: append and read only.
GRANT SELECT, INSERT ON ledger_events, ledger_tree_nodes, ledger_checkpoints TO :app_role;
GRANT USAGE ON SEQUENCE ledger_events_notification_id_seq TO :app_role;

-- Appends are serialised by an EXCLUSIVE lock on the events table, which needs more than INSERT; this function
-- (owned by the owner, SECURITY DEFINER) takes that lock and nothing else.
GRANT EXECUTE ON FUNCTION ledger_events_lock() TO :app_role;

-- Which idempotency key recorded which events (written in the same transaction as the events): append and read.
GRANT SELECT, INSERT ON ledger_commands TO :app_role;

-- Snapshots are a cache of replayed state, checked against the events on every load: append and read.
GRANT SELECT, INSERT ON ledger_snapshots TO :app_role;

-- The scheduler's bookkeeping beside the log: how far each time-driven rule has read the log, which objects it must
-- look at again when, and each job's last run. Not evidence of anything (the log is), so it is rewritten as work is
-- done. `jixiao db migrate` creates these tables.
GRANT SELECT, INSERT, UPDATE ON ledger_sweep_positions, ledger_sweep_watch, scheduler_jobs TO :app_role;
