-- Relay on PostgreSQL, script 2 of 4: Orleans grain state (the ADO.NET grain storage), with Relay's projection.
--
-- As Orleans's own script, with three differences:
-- * A write of a delivery grain's state also keeps Relay's delivery index and audit (relay_project_delivery,
--   script 0004) in the same statement, so in the same transaction: one commit per state transition.
-- * A version (the ETag) is never handed out twice for one grain state: clearing the state leaves a row without
--   payload that keeps counting, where Orleans's script deleted the row and began again at 1, so an ETag from
--   before the clear could overwrite the state written after it. Reads treat that row as no state at all.
-- * A unique index stops two first writes of one state from both inserting a row.
-- * The grain key (grainidextensionstring: a delivery's is destination/messageId) is text, not varchar(512).

CREATE TABLE IF NOT EXISTS relay_schema_version (
    version    integer     NOT NULL PRIMARY KEY,
    script     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS OrleansStorage (
    grainidhash            integer                NOT NULL,
    grainidn0              bigint                 NOT NULL,
    grainidn1              bigint                 NOT NULL,
    graintypehash          integer                NOT NULL,
    graintypestring        character varying(512) NOT NULL,
    grainidextensionstring text,
    serviceid              character varying(150) NOT NULL,
    payloadbinary          bytea,
    modifiedon             timestamptz            NOT NULL,
    version                integer
);

-- GrainTypeString is the state's name (Orleans passes the state name there), the key is the grain's key.
CREATE UNIQUE INDEX IF NOT EXISTS ux_orleansstorage_state ON OrleansStorage
    (grainidhash, graintypehash, serviceid, grainidn0, grainidn1, graintypestring, (COALESCE(grainidextensionstring, '')));

-- Answers the new version, or NULL when the write was refused (Orleans then throws InconsistentStateException):
-- a version was given and the stored one differs, or none was given and a state is stored.
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
        -- Concurrent writers with the same version queue on the row lock; the first one moves the version on and
        -- the others no longer match.
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
        -- A first write, or the first after a clear: the version goes on from the cleared row's.
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

    IF _newversion IS NOT NULL THEN
        -- Defined in 0004_relay.sql; an error there (say, a delivery without destination) undoes the state write.
        PERFORM relay_project_delivery(_graintypestring, _payloadbinary);
    END IF;

    RETURN QUERY SELECT _newversion;
END
$function$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', '
    SELECT * FROM writetostorage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                                 @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
'),
('ReadFromStorageKey', '
    SELECT payloadbinary AS PayloadBinary, version AS Version
    FROM OrleansStorage
    WHERE grainidhash = @GrainIdHash
      AND graintypehash = @GrainTypeHash
      AND serviceid = @ServiceId
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND graintypestring = @GrainTypeString
      AND COALESCE(grainidextensionstring, '''') = COALESCE(@GrainIdExtensionString, '''')
      AND payloadbinary IS NOT NULL;
'),
-- Clearing keeps the row, without payload, with the version moved on (answered as the new ETag).
('ClearStorageKey', '
    UPDATE OrleansStorage
    SET payloadbinary = NULL, modifiedon = now(), version = version + 1
    WHERE grainidhash = @GrainIdHash
      AND graintypehash = @GrainTypeHash
      AND serviceid = @ServiceId
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND graintypestring = @GrainTypeString
      AND COALESCE(grainidextensionstring, '''') = COALESCE(@GrainIdExtensionString, '''')
      AND version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING version AS NewGrainStateVersion;
'),
-- With DeleteStateOnClear the same, so that the version is not reused (see the top of this script); Orleans then
-- forgets the ETag, and the next write is a first write.
('DeleteStorageKey', '
    UPDATE OrleansStorage
    SET payloadbinary = NULL, modifiedon = now(), version = version + 1
    WHERE grainidhash = @GrainIdHash
      AND graintypehash = @GrainTypeHash
      AND serviceid = @ServiceId
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND graintypestring = @GrainTypeString
      AND COALESCE(grainidextensionstring, '''') = COALESCE(@GrainIdExtensionString, '''')
      AND version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING version AS NewGrainStateVersion;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText
WHERE OrleansQuery.QueryText IS DISTINCT FROM excluded.QueryText;

INSERT INTO relay_schema_version (version, script) VALUES (2, '0002_orleans_persistence.sql')
ON CONFLICT (version) DO NOTHING;
