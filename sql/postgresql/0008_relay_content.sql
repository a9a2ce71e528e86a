-- Relay on PostgreSQL, script 8: a delivery's content (payload, content type, headers) apart from its state.
--
-- A delivery's content is written once, when it is accepted (and again only when an operator edits it on resubmit);
-- its state changes at every attempt. Keeping the content in its own row makes an attempt's write a small row, however
-- large the payload: relay_grain_state.data holds the state without its content, relay_grain_content the content,
-- both written by the silo's group-commit writer in the same transaction.
--
-- States written before this script hold their content in data; they read back as they are, and their next write
-- moves the content here. Nothing to migrate.

CREATE TABLE IF NOT EXISTS relay_grain_content (
    grain_id   text  NOT NULL,
    state_name text  NOT NULL,
    content    bytea NOT NULL,
    PRIMARY KEY (grain_id, state_name)
);

INSERT INTO relay_schema_version (version, script) VALUES (8, '0008_relay_content.sql')
ON CONFLICT (version) DO NOTHING;
