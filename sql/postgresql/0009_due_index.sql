-- Relay on PostgreSQL, script 9: the retry schedulers' index by due time first.
--
-- A scheduler polls for the due deliveries of its shards, earliest first (shard BETWEEN a AND b AND due_at <= now
-- ORDER BY due_at LIMIT n). On the index of 0004, (shard, due_at), that is a range over shards: the scan read every
-- entry of the scheduler's shards, due or not, so a poll cost as much as the whole backlog (measured with 1,000,000
-- deliveries due in 12 hours: 9.6 ms and 495 buffers per poll; with 200,000 due at once: 41 ms). By due time first,
-- a poll reads the due entries only, in order, and stops at its limit: 0.12 ms with 1,000,000 not yet due, 0.9 ms
-- with 200,000 due. (Still read one by one: the due entries of a paused destination, or one whose circuit is open,
-- which the poll leaves out.)
--
-- On a large database create the index beforehand without blocking writes, outside a transaction:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_deliveries_due_at ON deliveries (due_at, shard) WHERE due_at IS NOT NULL;

CREATE INDEX IF NOT EXISTS ix_deliveries_due_at ON deliveries (due_at, shard) WHERE due_at IS NOT NULL;
DROP INDEX IF EXISTS ix_deliveries_due;

INSERT INTO relay_schema_version (version, script) VALUES (9, '0009_due_index.sql')
ON CONFLICT (version) DO NOTHING;
