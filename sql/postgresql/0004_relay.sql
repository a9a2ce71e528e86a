-- Relay on PostgreSQL, script 4 of 4: Relay's delivery index and audit, kept from the delivery grains' state.
--
-- The same tables and columns as the embedded SQLite backend's, with PostgreSQL types: times are timestamptz at
-- millisecond precision (as SQLite's unix milliseconds), enums are stored by name, and identifiers compare
-- byte-wise (COLLATE "C") so that listing order and cursors do not depend on the database's locale.
--
-- relay_project_delivery is called by writetostorage (0002) in the statement that writes the grain state. It reads
-- the JSON that Relay.Grains.Delivery.DeliveryStateJsonSerializer writes: change both together.

CREATE TABLE IF NOT EXISTS relay_schema_version (
    version    integer     NOT NULL PRIMARY KEY,
    script     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per delivery, written in the same transaction as the delivery grain's state.
CREATE TABLE IF NOT EXISTS deliveries (
    destination           text COLLATE "C" NOT NULL,
    message_id            text COLLATE "C" NOT NULL,
    topic                 text,
    status                text COLLATE "C" NOT NULL,
    attempts              integer          NOT NULL,
    accepted_at           timestamptz      NOT NULL,
    updated_at            timestamptz      NOT NULL,
    due_at                timestamptz,
    next_attempt_at       timestamptz,
    completed_at          timestamptz,
    last_error            text,
    response_status_code  integer,
    response_headers_json text,
    response_body         text,
    content_hash          text             NOT NULL,
    correlation_id        text,
    shard                 integer          NOT NULL,
    PRIMARY KEY (destination, message_id)
);
CREATE INDEX IF NOT EXISTS ix_deliveries_message ON deliveries (message_id);
CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (shard, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_deliveries_accepted ON deliveries (accepted_at DESC, message_id DESC);
CREATE INDEX IF NOT EXISTS ix_deliveries_status ON deliveries (status, destination, message_id);

CREATE TABLE IF NOT EXISTS audit (
    destination   text COLLATE "C" NOT NULL,
    message_id    text COLLATE "C" NOT NULL,
    sequence      integer          NOT NULL,
    kind          text             NOT NULL,
    at            timestamptz      NOT NULL,
    attempt       integer          NOT NULL,
    silo          text,
    duration_ms   bigint           NOT NULL,
    outcome       text,
    status_code   integer,
    error         text,
    response_body text,
    actor         text,
    detail        text,
    PRIMARY KEY (destination, message_id, sequence)
);
CREATE INDEX IF NOT EXISTS ix_audit_message ON audit (message_id, at, sequence);
CREATE INDEX IF NOT EXISTS ix_audit_at ON audit (at);

-- An ISO 8601 time with offset, cut (not rounded) to whole milliseconds, as the SQLite backend stores it.
CREATE OR REPLACE FUNCTION relay_time(value text)
RETURNS timestamptz
LANGUAGE sql
STABLE
AS $func$
    SELECT regexp_replace(value, '(\.[0-9]{3})[0-9]+', '\1')::timestamptz
$func$;

-- Projects a delivery grain's state (the state named 'delivery', stored as JSON) into deliveries and audit.
-- Anything else is left alone. An audit entry already stored (same delivery, same sequence) is kept as it is,
-- so a write repeated after a lost answer adds nothing twice.
CREATE OR REPLACE FUNCTION relay_project_delivery(state_name character varying, payload bytea)
RETURNS void
LANGUAGE plpgsql
AS $func$
DECLARE
    d record;
BEGIN
    -- 123 is '{': a state of another serializer is never parsed.
    IF state_name IS DISTINCT FROM 'delivery' OR payload IS NULL OR length(payload) = 0 OR get_byte(payload, 0) <> 123 THEN
        RETURN;
    END IF;

    -- One parse of the document; the payload (base64) is skipped over, never decoded.
    SELECT * INTO d
    FROM json_to_record(convert_from(payload, 'UTF8')::json) AS x(
        "messageId"          text,
        "destination"        text,
        "topic"              text,
        "status"             text,
        "attempts"           integer,
        "acceptedAt"         text,
        "updatedAt"          text,
        "dueAt"              text,
        "nextAttemptAt"      text,
        "completedAt"        text,
        "lastError"          text,
        "responseStatusCode" integer,
        "responseHeaders"    json,
        "responseBody"       text,
        "contentHash"        text,
        "correlationId"      text,
        "shard"              integer,
        "pendingAudit"       json);

    INSERT INTO deliveries AS t (
        destination, message_id, topic, status, attempts, accepted_at, updated_at, due_at, next_attempt_at,
        completed_at, last_error, response_status_code, response_headers_json, response_body, content_hash,
        correlation_id, shard)
    VALUES (
        d."destination", d."messageId", d."topic", d."status", d."attempts", relay_time(d."acceptedAt"),
        relay_time(d."updatedAt"), relay_time(d."dueAt"), relay_time(d."nextAttemptAt"), relay_time(d."completedAt"),
        d."lastError", d."responseStatusCode",
        -- The headers as the serializer wrote them (json keeps the text); a JSON null is no headers.
        CASE WHEN json_typeof(d."responseHeaders") = 'object' THEN d."responseHeaders"::text END,
        d."responseBody", d."contentHash", d."correlationId", d."shard")
    ON CONFLICT (destination, message_id) DO UPDATE SET
        topic = excluded.topic,
        status = excluded.status,
        attempts = excluded.attempts,
        accepted_at = excluded.accepted_at,
        updated_at = excluded.updated_at,
        due_at = excluded.due_at,
        next_attempt_at = excluded.next_attempt_at,
        completed_at = excluded.completed_at,
        last_error = excluded.last_error,
        response_status_code = excluded.response_status_code,
        response_headers_json = excluded.response_headers_json,
        response_body = excluded.response_body,
        content_hash = excluded.content_hash,
        correlation_id = excluded.correlation_id,
        shard = excluded.shard;

    IF json_typeof(d."pendingAudit") = 'array' AND json_array_length(d."pendingAudit") > 0 THEN
        INSERT INTO audit (
            destination, message_id, sequence, kind, at, attempt, silo, duration_ms, outcome, status_code, error,
            response_body, actor, detail)
        SELECT
            a."destination", a."messageId", a."sequence", a."kind", relay_time(a."at"), a."attempt", a."silo",
            a."durationMs", a."outcome", a."statusCode", a."error", a."responseBody", a."by", a."detail"
        FROM json_to_recordset(d."pendingAudit") AS a(
            "messageId"    text,
            "destination"  text,
            "sequence"     integer,
            "kind"         text,
            "at"           text,
            "attempt"      integer,
            "silo"         text,
            "durationMs"   bigint,
            "outcome"      text,
            "statusCode"   integer,
            "error"        text,
            "responseBody" text,
            "by"           text,
            "detail"       text)
        ON CONFLICT (destination, message_id, sequence) DO NOTHING;
    END IF;
END
$func$;

INSERT INTO relay_schema_version (version, script) VALUES (4, '0004_relay.sql')
ON CONFLICT (version) DO NOTHING;
