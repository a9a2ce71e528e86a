-- Relay on PostgreSQL, script 3 of 4: Orleans reminders (the ADO.NET reminder table), as Orleans's own script.

CREATE TABLE IF NOT EXISTS relay_schema_version (
    version    integer     NOT NULL PRIMARY KEY,
    script     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- GrainHash is GrainId.GetUniformHashCode() (an unsigned 32-bit number) stored as a signed integer; Orleans picks
-- ReadRangeRows1Key or ReadRangeRows2Key so that the signed comparisons below select the right part of the ring.
CREATE TABLE IF NOT EXISTS OrleansRemindersTable (
    ServiceId    varchar(150)   NOT NULL,
    GrainId      varchar(150)   NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,
    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS ix_orleansreminderstable_hash ON OrleansRemindersTable (ServiceId, GrainHash);

-- Inserts or replaces a reminder; answers its new version (the ETag).
CREATE OR REPLACE FUNCTION upsert_reminder_row(
    ServiceIdArg    varchar,
    GrainIdArg      varchar,
    ReminderNameArg varchar,
    StartTimeArg    timestamptz,
    PeriodArg       bigint,
    GrainHashArg    integer)
RETURNS TABLE (version integer)
LANGUAGE plpgsql
AS $func$
DECLARE
    VersionVar integer := 0;
BEGIN
    INSERT INTO OrleansRemindersTable AS r (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (ServiceIdArg, GrainIdArg, ReminderNameArg, StartTimeArg, PeriodArg, GrainHashArg, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
        StartTime = excluded.StartTime,
        Period = excluded.Period,
        GrainHash = excluded.GrainHash,
        Version = r.Version + 1
    RETURNING r.Version INTO STRICT VersionVar;
    RETURN QUERY SELECT VersionVar;
END
$func$;

-- Removes a reminder if its version is still the given one: answers 1 when removed, else 0.
CREATE OR REPLACE FUNCTION delete_reminder_row(
    ServiceIdArg    varchar,
    GrainIdArg      varchar,
    ReminderNameArg varchar,
    VersionArg      integer)
RETURNS TABLE (row_count integer)
LANGUAGE plpgsql
AS $func$
DECLARE
    RowCountVar integer := 0;
BEGIN
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = ServiceIdArg AND ServiceIdArg IS NOT NULL
      AND GrainId = GrainIdArg AND GrainIdArg IS NOT NULL
      AND ReminderName = ReminderNameArg AND ReminderNameArg IS NOT NULL
      AND Version = VersionArg AND VersionArg IS NOT NULL;
    GET DIAGNOSTICS RowCountVar = ROW_COUNT;
    RETURN QUERY SELECT RowCountVar;
END
$func$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', '
    SELECT * FROM upsert_reminder_row(@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash);
'),
('ReadReminderRowsKey', '
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND GrainId = @GrainId AND @GrainId IS NOT NULL;
'),
('ReadReminderRowKey', '
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND GrainId = @GrainId AND @GrainId IS NOT NULL
      AND ReminderName = @ReminderName AND @ReminderName IS NOT NULL;
'),
('ReadRangeRows1Key', '
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND GrainHash > @BeginHash AND @BeginHash IS NOT NULL
      AND GrainHash <= @EndHash AND @EndHash IS NOT NULL;
'),
('ReadRangeRows2Key', '
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND ((GrainHash > @BeginHash AND @BeginHash IS NOT NULL)
        OR (GrainHash <= @EndHash AND @EndHash IS NOT NULL));
'),
('DeleteReminderRowKey', '
    SELECT * FROM delete_reminder_row(@ServiceId, @GrainId, @ReminderName, @Version);
'),
('DeleteReminderRowsKey', '
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText
WHERE OrleansQuery.QueryText IS DISTINCT FROM excluded.QueryText;

INSERT INTO relay_schema_version (version, script) VALUES (3, '0003_orleans_reminders.sql')
ON CONFLICT (version) DO NOTHING;
