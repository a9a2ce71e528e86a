-- Relay on PostgreSQL, script 11: the catalog, destinations, contracts and topics managed at runtime.
--
-- settings is the entry's JSON, of the shape of its configuration entry (Relay:Destinations:{name} and so on); NULL
-- for a deleted entry (a tombstone: a name once known is not seeded again from configuration). version is the catalog's
-- version of the entry's last change: catalog_head holds the latest, and every change takes the next one while holding
-- the head's row lock, so changes are serialized and a silo polling the head (Relay:Catalog:PollInterval) never sees a
-- version before the changes that led to it are visible.

CREATE TABLE IF NOT EXISTS catalog_head (
    id      int    NOT NULL PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO catalog_head (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS catalog_entries (
    kind       text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    version    bigint           NOT NULL,
    settings   text,
    updated_at timestamptz      NOT NULL,
    updated_by text             NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Every change of the catalog: who, when, before and after (secrets redacted before they get here).
CREATE TABLE IF NOT EXISTS catalog_audit (
    version bigint           NOT NULL,
    kind    text COLLATE "C" NOT NULL,
    name    text COLLATE "C" NOT NULL,
    action  text             NOT NULL,
    at      timestamptz      NOT NULL,
    actor   text             NOT NULL,
    before  text,
    after   text,
    PRIMARY KEY (version, kind, name)
);
CREATE INDEX IF NOT EXISTS ix_catalog_audit_entry ON catalog_audit (kind, name, version DESC);

INSERT INTO relay_schema_version (version, script) VALUES (11, '0011_catalog.sql')
ON CONFLICT (version) DO NOTHING;
