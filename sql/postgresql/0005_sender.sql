-- Relay on PostgreSQL, script 5: who sent a message.
--
-- With API keys configured (Relay:Security:SenderKeys), a delivery remembers the NAME of the sender key that sent it
-- (never the key), so that a sender reads its own messages and no one else's. relay_project_delivery is redefined
-- to fill the new column from the state's "sender" (Relay.Grains.Delivery.DeliveryState.Sender).

ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS sender text;

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
        "sender"             text,
        "shard"              integer,
        "pendingAudit"       json);

    INSERT INTO deliveries AS t (
        destination, message_id, topic, status, attempts, accepted_at, updated_at, due_at, next_attempt_at,
        completed_at, last_error, response_status_code, response_headers_json, response_body, content_hash,
        correlation_id, shard, sender)
    VALUES (
        d."destination", d."messageId", d."topic", d."status", d."attempts", relay_time(d."acceptedAt"),
        relay_time(d."updatedAt"), relay_time(d."dueAt"), relay_time(d."nextAttemptAt"), relay_time(d."completedAt"),
        d."lastError", d."responseStatusCode",
        -- The headers as the serializer wrote them (json keeps the text); a JSON null is no headers.
        CASE WHEN json_typeof(d."responseHeaders") = 'object' THEN d."responseHeaders"::text END,
        d."responseBody", d."contentHash", d."correlationId", d."shard", d."sender")
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
        shard = excluded.shard,
        sender = excluded.sender;

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

INSERT INTO relay_schema_version (version, script) VALUES (5, '0005_sender.sql')
ON CONFLICT (version) DO NOTHING;
