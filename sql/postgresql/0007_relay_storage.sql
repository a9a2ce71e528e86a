-- Relay on PostgreSQL, script 7: Relay's own grain storage, written by each silo's group-commit writer.
--
-- Until script 6, every grain state went through Orleans's ADO.NET grain storage (OrleansStorage, 0002), one
-- transaction per write, and writetostorage projected a delivery's state into deliveries and audit in PL/pgSQL from
-- its JSON. From here on:
-- * relay_grain_state holds the delivery grains' states. Each silo has one writer (Relay.Storage.AdoNet's
--   PostgresWriter) that takes every queued write and runs them together in one transaction, set-based (unnest),
--   with the delivery's row and audit entries, projected in C#, as typed columns in the same transaction.
-- * The small, rare states (a destination's pause and circuit, an ordering key's queue) stay in OrleansStorage,
--   written by Orleans's own ADO.NET provider, which no longer projects anything.
-- * The versions (ETags) come from one sequence: a version is never handed out twice, across silos, also after
--   a state was cleared and written again.

CREATE TABLE IF NOT EXISTS relay_grain_state (
    grain_id   text   NOT NULL,
    state_name text   NOT NULL,
    version    bigint NOT NULL,
    data       bytea  NOT NULL,
    PRIMARY KEY (grain_id, state_name)
);

CREATE SEQUENCE IF NOT EXISTS relay_etag AS bigint CACHE 64;

-- The delivery states stored so far move over, as they are (the JSON Relay.Grains.Delivery.DeliveryStateJsonSerializer
-- reads), under the grain id Orleans gives a delivery grain ('delivery/' and its key). Their rows and audit in
-- deliveries and audit are already there.
INSERT INTO relay_grain_state (grain_id, state_name, version, data)
SELECT 'delivery/' || grainidextensionstring, graintypestring, nextval('relay_etag'), payloadbinary
FROM OrleansStorage
WHERE graintypestring = 'delivery' AND payloadbinary IS NOT NULL AND grainidextensionstring IS NOT NULL
ON CONFLICT (grain_id, state_name) DO NOTHING;

DELETE FROM OrleansStorage WHERE graintypestring = 'delivery';

-- Orleans's write no longer projects: the projection is written once, in C#, for both backends.
CREATE OR REPLACE FUNCTION writetostorage(
    _grainidhash            integer,
    _grainidn0              bigint,
    _grainidn1              bigint,
    _graintypehash          integer,
    _graintypestring        character varying,
    _grainidextensionstring text,
    _serviceid              character varying,
    _grainstateversion      integer,
    _payloadbinary          bytea)
RETURNS TABLE (newgrainstateversion integer)
LANGUAGE plpgsql
AS $function$
DECLARE
    _newversion integer;
BEGIN
    IF _grainstateversion IS NOT NULL THEN
        UPDATE OrleansStorage
        SET payloadbinary = _payloadbinary,
            modifiedon = now(),
            version = version + 1
        WHERE grainidhash = _grainidhash
          AND graintypehash = _graintypehash
          AND serviceid = _serviceid
          AND grainidn0 = _grainidn0
          AND grainidn1 = _grainidn1
          AND graintypestring = _graintypestring
          AND COALESCE(grainidextensionstring, '') = COALESCE(_grainidextensionstring, '')
          AND version = _grainstateversion
        RETURNING version INTO _newversion;
    ELSE
        INSERT INTO OrleansStorage AS s
            (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid,
             payloadbinary, modifiedon, version)
        VALUES
            (_grainidhash, _grainidn0, _grainidn1, _graintypehash, _graintypestring, _grainidextensionstring, _serviceid,
             _payloadbinary, now(), 1)
        ON CONFLICT (grainidhash, graintypehash, serviceid, grainidn0, grainidn1, graintypestring, (COALESCE(grainidextensionstring, '')))
        DO UPDATE SET payloadbinary = excluded.payloadbinary, modifiedon = excluded.modifiedon, version = s.version + 1
        WHERE s.payloadbinary IS NULL
        RETURNING s.version INTO _newversion;
    END IF;

    RETURN QUERY SELECT _newversion;
END
$function$;

DROP FUNCTION IF EXISTS relay_project_delivery(character varying, bytea);
DROP FUNCTION IF EXISTS relay_time(text);

INSERT INTO relay_schema_version (version, script) VALUES (7, '0007_relay_storage.sql')
ON CONFLICT (version) DO NOTHING;
