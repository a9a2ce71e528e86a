-- Relay on PostgreSQL, script 6: the operator portal's queries.
--
-- The message list filtered by topic, newest first, and the overview's counts of the deliveries that changed in the
-- last hour or day (Relay.Core.Storage.IRelayStore.ListMessagesAsync, CountChangedSinceAsync). The attempt chart reads
-- the audit by ix_audit_at (0004); the accepted-time range uses ix_deliveries_accepted (0004).

CREATE INDEX IF NOT EXISTS ix_deliveries_topic ON deliveries (topic, accepted_at DESC, message_id DESC) WHERE topic IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_deliveries_updated ON deliveries (updated_at, destination, status);

INSERT INTO relay_schema_version (version, script) VALUES (6, '0006_portal.sql')
ON CONFLICT (version) DO NOTHING;
