-- =============================================================================
-- 001-orleans.sql
--
-- Orleans 10.4.x ADO.NET schema for PostgreSQL (ADO.NET invariant "Npgsql").
-- Covers the three providers the silo uses:
--   * Microsoft.Orleans.Clustering.AdoNet   (UseAdoNetClustering)
--   * Microsoft.Orleans.Persistence.AdoNet  (AddAdoNetGrainStorage)
--   * Microsoft.Orleans.Reminders.AdoNet    (UseAdoNetReminderService)
--
-- The NuGet packages do not ship their SQL, so this project owns it. The
-- providers only ever run the statements stored in "orleansquery" (looked up by
-- key); they bind parameters by name (@DeploymentId, @GrainIdHash, ...) and
-- read result columns by name. Keys, parameter names and result column names
-- below therefore form a contract with the 10.4.2 assemblies and must not be
-- renamed. Everything else (formatting, helper function bodies) is ours.
--
-- The script is idempotent: it may run on every silo start. It never drops
-- anything. Tables/indexes use IF NOT EXISTS, helper functions use
-- CREATE OR REPLACE, and query rows are upserted so that a newer version of
-- this file replaces older query texts in place.
--
-- The caller runs this inside one transaction holding a pg_advisory_xact_lock,
-- so concurrent silos never interleave; the script itself takes no locks.
--
-- Unquoted identifiers fold to lower case in PostgreSQL: OrleansQuery is the
-- table orleansquery, QueryKey is the column querykey, and so on.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Query catalogue
-- -----------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL,
    QueryText varchar(8000) NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);


-- =============================================================================
-- Clustering (membership)
-- =============================================================================

-- One row per cluster (DeploymentId = ClusterId). Version is the optimistic
-- concurrency token of the whole membership table of that cluster.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port, generation).
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,

    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Heartbeat. Never moves IAmAliveTime backwards (a delayed, older heartbeat
-- must not overwrite a newer one). The provider ignores the result.
CREATE OR REPLACE FUNCTION update_i_am_alive_time(
    deployment_id   OrleansMembershipTable.DeploymentId%TYPE,
    address_arg     OrleansMembershipTable.Address%TYPE,
    port_arg        OrleansMembershipTable.Port%TYPE,
    generation_arg  OrleansMembershipTable.Generation%TYPE,
    i_am_alive_time OrleansMembershipTable.IAmAliveTime%TYPE)
RETURNS void
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipTable AS m
       SET IAmAliveTime = GREATEST(m.IAmAliveTime, i_am_alive_time)
     WHERE m.DeploymentId = deployment_id  AND deployment_id  IS NOT NULL
       AND m.Address      = address_arg    AND address_arg    IS NOT NULL
       AND m.Port         = port_arg       AND port_arg       IS NOT NULL
       AND m.Generation   = generation_arg AND generation_arg IS NOT NULL;
END
$fn$;

-- Creates the version row for a cluster. Returns 1 when a row was created and
-- 0 when it already existed (the provider reads the single value as a bool).
CREATE OR REPLACE FUNCTION insert_membership_version(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE)
RETURNS TABLE (row_count integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    affected integer := 0;
BEGIN
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    SELECT DeploymentIdArg
    ON CONFLICT (DeploymentId) DO NOTHING;

    GET DIAGNOSTICS affected = ROW_COUNT;
    RETURN QUERY SELECT affected;
END
$fn$;

-- Adds a silo row and bumps the table version, atomically: both happen or
-- neither does. Returns 1 on success, 0 when the expected version did not
-- match or the row already exists.
CREATE OR REPLACE FUNCTION insert_membership(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE,
    AddressArg      OrleansMembershipTable.Address%TYPE,
    PortArg         OrleansMembershipTable.Port%TYPE,
    GenerationArg   OrleansMembershipTable.Generation%TYPE,
    SiloNameArg     OrleansMembershipTable.SiloName%TYPE,
    HostNameArg     OrleansMembershipTable.HostName%TYPE,
    StatusArg       OrleansMembershipTable.Status%TYPE,
    ProxyPortArg    OrleansMembershipTable.ProxyPort%TYPE,
    StartTimeArg    OrleansMembershipTable.StartTime%TYPE,
    IAmAliveTimeArg OrleansMembershipTable.IAmAliveTime%TYPE,
    VersionArg      OrleansMembershipVersionTable.Version%TYPE)
RETURNS TABLE (row_count integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    affected integer := 0;
BEGIN
    -- The inner block is a savepoint: raising inside it undoes the version
    -- bump when the insert itself did not happen.
    BEGIN
        UPDATE OrleansMembershipVersionTable
           SET Timestamp = now(),
               Version   = Version + 1
         WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
           AND Version      = VersionArg      AND VersionArg      IS NOT NULL
           AND Version < 2147483647;

        GET DIAGNOSTICS affected = ROW_COUNT;

        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName,
             Status, ProxyPort, StartTime, IAmAliveTime)
        SELECT DeploymentIdArg, AddressArg, PortArg, GenerationArg, SiloNameArg, HostNameArg,
               StatusArg, ProxyPortArg, StartTimeArg, IAmAliveTimeArg
         WHERE affected > 0
        ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;

        GET DIAGNOSTICS affected = ROW_COUNT;

        IF affected = 0 THEN
            RAISE EXCEPTION 'membership insert rejected' USING ERRCODE = 'assert_failure';
        END IF;

        RETURN QUERY SELECT affected;
    EXCEPTION
        WHEN assert_failure THEN
            RETURN QUERY SELECT 0;
    END;
END
$fn$;

-- Updates a silo row and bumps the table version, atomically. Returns 1 on
-- success, 0 on a version mismatch or a missing row.
CREATE OR REPLACE FUNCTION update_membership(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE,
    AddressArg      OrleansMembershipTable.Address%TYPE,
    PortArg         OrleansMembershipTable.Port%TYPE,
    GenerationArg   OrleansMembershipTable.Generation%TYPE,
    StatusArg       OrleansMembershipTable.Status%TYPE,
    SuspectTimesArg OrleansMembershipTable.SuspectTimes%TYPE,
    IAmAliveTimeArg OrleansMembershipTable.IAmAliveTime%TYPE,
    VersionArg      OrleansMembershipVersionTable.Version%TYPE)
RETURNS TABLE (row_count integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    affected integer := 0;
BEGIN
    BEGIN
        UPDATE OrleansMembershipVersionTable
           SET Timestamp = now(),
               Version   = Version + 1
         WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
           AND Version      = VersionArg      AND VersionArg      IS NOT NULL
           AND Version < 2147483647;

        GET DIAGNOSTICS affected = ROW_COUNT;

        UPDATE OrleansMembershipTable
           SET Status       = StatusArg,
               SuspectTimes = SuspectTimesArg,
               IAmAliveTime = GREATEST(IAmAliveTime, IAmAliveTimeArg)
         WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
           AND Address      = AddressArg      AND AddressArg      IS NOT NULL
           AND Port         = PortArg         AND PortArg         IS NOT NULL
           AND Generation   = GenerationArg   AND GenerationArg   IS NOT NULL
           AND affected > 0;

        GET DIAGNOSTICS affected = ROW_COUNT;

        IF affected = 0 THEN
            RAISE EXCEPTION 'membership update rejected' USING ERRCODE = 'assert_failure';
        END IF;

        RETURN QUERY SELECT affected;
    EXCEPTION
        WHEN assert_failure THEN
            RETURN QUERY SELECT 0;
    END;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'UpdateIAmAlivetimeKey',
    $q$
    SELECT * FROM update_i_am_alive_time(@DeploymentId, @Address, @Port, @Generation, @IAmAliveTime);
    $q$
),
(
    'InsertMembershipVersionKey',
    $q$
    SELECT * FROM insert_membership_version(@DeploymentId);
    $q$
),
(
    'InsertMembershipKey',
    $q$
    SELECT * FROM insert_membership(
        @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);
    $q$
),
(
    'UpdateMembershipKey',
    $q$
    SELECT * FROM update_membership(
        @DeploymentId, @Address, @Port, @Generation,
        @Status, @SuspectTimes, @IAmAliveTime, @Version);
    $q$
),
(
    -- The version row is always returned, even without a matching silo row
    -- (then the silo columns are NULL and the provider only takes Version).
    'MembershipReadRowKey',
    $q$
    SELECT v.DeploymentId,
           m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
           v.Version
      FROM OrleansMembershipVersionTable v
      LEFT JOIN OrleansMembershipTable m
             ON m.DeploymentId = v.DeploymentId
            AND m.Address      = @Address    AND @Address    IS NOT NULL
            AND m.Port         = @Port       AND @Port       IS NOT NULL
            AND m.Generation   = @Generation AND @Generation IS NOT NULL
     WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
    $q$
),
(
    'MembershipReadAllKey',
    $q$
    SELECT v.DeploymentId,
           m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
           v.Version
      FROM OrleansMembershipVersionTable v
      LEFT JOIN OrleansMembershipTable m
             ON m.DeploymentId = v.DeploymentId
     WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
    $q$
),
(
    'DeleteMembershipTableEntriesKey',
    $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
    DELETE FROM OrleansMembershipVersionTable
     WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
    $q$
),
(
    -- Gateways for clients: silos with the requested status (Active) that
    -- expose a gateway port.
    'GatewaysQueryKey',
    $q$
    SELECT Address, ProxyPort, Generation
      FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
       AND Status       = @Status       AND @Status       IS NOT NULL
       AND ProxyPort > 0;
    $q$
),
(
    -- Bulk cleanup of defunct silos (required key). Only rows that are Dead
    -- (status 6), idle since before the cut-off and carry no suspicion votes
    -- are removed. The 10.4 provider prefers CleanupDefunctSiloEntryKey below
    -- and falls back to this one when that key is absent.
    'CleanupDefunctSiloEntriesKey',
    $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
       AND IAmAliveTime < @IAmAliveTime
       AND StartTime    < @IAmAliveTime
       AND COALESCE(SuspectTimes, '') = ''
       AND Status = 6;
    $q$
),
(
    -- Per-row cleanup (optional key, used by 10.4 when present): deletes one
    -- Dead row only if it still holds exactly the values the provider read,
    -- so a row that changed in the meantime is left alone.
    'CleanupDefunctSiloEntryKey',
    $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Status       = 6
       AND Address      = @Address
       AND Port         = @Port
       AND Generation   = @Generation
       AND IAmAliveTime = @IAmAliveTime
       AND StartTime    = @StartTime
       AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;


-- =============================================================================
-- Grain persistence
-- =============================================================================

-- One row per (service, grain type, grain id). The 10.x provider stores the
-- serialized state in PayloadBinary only (its serializer decides the format).
-- Version is the ETag; NULL payload with a version means "cleared".
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NULL
);

CREATE INDEX IF NOT EXISTS IX_OrleansStorage
    ON OrleansStorage USING btree (GrainIdHash, GrainTypeHash);

-- Writes grain state with optimistic concurrency.
--  * _GrainStateVersion NOT NULL: update the row only if it still has that
--    version; on success return version + 1.
--  * _GrainStateVersion NULL (never stored / deleted): insert version 1 only if
--    no row exists yet.
-- When nothing was written the function returns the version it was given
-- (or NULL), which the provider turns into an InconsistentStateException.
CREATE OR REPLACE FUNCTION writetostorage(
    _GrainIdHash            integer,
    _GrainIdN0              bigint,
    _GrainIdN1              bigint,
    _GrainTypeHash          integer,
    _GrainTypeString        varchar,
    _GrainIdExtensionString varchar,
    _ServiceId              varchar,
    _GrainStateVersion      integer,
    _PayloadBinary          bytea)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    new_version integer := _GrainStateVersion;
    affected    integer := 0;
BEGIN
    IF _GrainStateVersion IS NOT NULL THEN
        UPDATE OrleansStorage
           SET PayloadBinary = _PayloadBinary,
               ModifiedOn    = now(),
               Version       = Version + 1
         WHERE GrainIdHash     = _GrainIdHash     AND _GrainIdHash     IS NOT NULL
           AND GrainTypeHash   = _GrainTypeHash   AND _GrainTypeHash   IS NOT NULL
           AND GrainIdN0       = _GrainIdN0       AND _GrainIdN0       IS NOT NULL
           AND GrainIdN1       = _GrainIdN1       AND _GrainIdN1       IS NOT NULL
           AND GrainTypeString = _GrainTypeString AND _GrainTypeString IS NOT NULL
           AND ((_GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString IS NOT NULL
                 AND GrainIdExtensionString = _GrainIdExtensionString)
                OR (_GrainIdExtensionString IS NULL AND GrainIdExtensionString IS NULL))
           AND ServiceId       = _ServiceId       AND _ServiceId       IS NOT NULL
           AND Version IS NOT NULL AND Version = _GrainStateVersion;

        GET DIAGNOSTICS affected = ROW_COUNT;
        IF affected > 0 THEN
            new_version := _GrainStateVersion + 1;
        END IF;
    ELSE
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
             GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        SELECT _GrainIdHash, _GrainIdN0, _GrainIdN1, _GrainTypeHash, _GrainTypeString,
               _GrainIdExtensionString, _ServiceId, _PayloadBinary, now(), 1
         WHERE NOT EXISTS
               (SELECT 1
                  FROM OrleansStorage
                 WHERE GrainIdHash     = _GrainIdHash     AND _GrainIdHash     IS NOT NULL
                   AND GrainTypeHash   = _GrainTypeHash   AND _GrainTypeHash   IS NOT NULL
                   AND GrainIdN0       = _GrainIdN0       AND _GrainIdN0       IS NOT NULL
                   AND GrainIdN1       = _GrainIdN1       AND _GrainIdN1       IS NOT NULL
                   AND GrainTypeString = _GrainTypeString AND _GrainTypeString IS NOT NULL
                   AND ((_GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString IS NOT NULL
                         AND GrainIdExtensionString = _GrainIdExtensionString)
                        OR (_GrainIdExtensionString IS NULL AND GrainIdExtensionString IS NULL))
                   AND ServiceId       = _ServiceId       AND _ServiceId       IS NOT NULL);

        GET DIAGNOSTICS affected = ROW_COUNT;
        IF affected > 0 THEN
            new_version := 1;
        END IF;
    END IF;

    RETURN QUERY SELECT new_version;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'WriteToStorageKey',
    $q$
    SELECT * FROM writetostorage(
        @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
    $q$
),
(
    -- Columns read by name: PayloadBinary, Version.
    'ReadFromStorageKey',
    $q$
    SELECT PayloadBinary,
           (now() AT TIME ZONE 'utc'),
           Version
      FROM OrleansStorage
     WHERE GrainIdHash     = @GrainIdHash
       AND GrainTypeHash   = @GrainTypeHash   AND @GrainTypeHash   IS NOT NULL
       AND GrainIdN0       = @GrainIdN0       AND @GrainIdN0       IS NOT NULL
       AND GrainIdN1       = @GrainIdN1       AND @GrainIdN1       IS NOT NULL
       AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
       AND ((@GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString IS NOT NULL
             AND GrainIdExtensionString = @GrainIdExtensionString)
            OR (@GrainIdExtensionString IS NULL AND GrainIdExtensionString IS NULL))
       AND ServiceId       = @ServiceId       AND @ServiceId       IS NOT NULL;
    $q$
),
(
    -- ClearStateAsync with DeleteStateOnClear = false (the default): keep the
    -- row, drop the payload, bump the version. Returns the new version, or no
    -- row at all on a version mismatch.
    'ClearStorageKey',
    $q$
    UPDATE OrleansStorage
       SET PayloadBinary = NULL,
           ModifiedOn    = now(),
           Version       = Version + 1
     WHERE GrainIdHash     = @GrainIdHash     AND @GrainIdHash     IS NOT NULL
       AND GrainTypeHash   = @GrainTypeHash   AND @GrainTypeHash   IS NOT NULL
       AND GrainIdN0       = @GrainIdN0       AND @GrainIdN0       IS NOT NULL
       AND GrainIdN1       = @GrainIdN1       AND @GrainIdN1       IS NOT NULL
       AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
       AND ((@GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString IS NOT NULL
             AND GrainIdExtensionString = @GrainIdExtensionString)
            OR (@GrainIdExtensionString IS NULL AND GrainIdExtensionString IS NULL))
       AND ServiceId       = @ServiceId       AND @ServiceId       IS NOT NULL
       AND Version IS NOT NULL AND Version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING Version AS NewGrainStateVersion;
    $q$
),
(
    -- ClearStateAsync with DeleteStateOnClear = true (optional key; without it
    -- the provider refuses that option at start-up): remove the row. Returns a
    -- value different from the caller's version on success, no row otherwise.
    'DeleteStorageKey',
    $q$
    DELETE FROM OrleansStorage
     WHERE GrainIdHash     = @GrainIdHash     AND @GrainIdHash     IS NOT NULL
       AND GrainTypeHash   = @GrainTypeHash   AND @GrainTypeHash   IS NOT NULL
       AND GrainIdN0       = @GrainIdN0       AND @GrainIdN0       IS NOT NULL
       AND GrainIdN1       = @GrainIdN1       AND @GrainIdN1       IS NOT NULL
       AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
       AND ((@GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString IS NOT NULL
             AND GrainIdExtensionString = @GrainIdExtensionString)
            OR (@GrainIdExtensionString IS NULL AND GrainIdExtensionString IS NULL))
       AND ServiceId       = @ServiceId       AND @ServiceId       IS NOT NULL
       AND Version IS NOT NULL AND Version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING Version + 1 AS NewGrainStateVersion;
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;


-- =============================================================================
-- Reminders
-- =============================================================================

-- Period is in milliseconds (bigint: periods above ~24.8 days do not fit an
-- int). GrainHash is the grain's uniform hash reinterpreted as a signed int.
CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)   NOT NULL,
    GrainId      varchar(150)   NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,

    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName
        PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Range reads (ReadRangeRows1Key/2Key) filter on ServiceId + GrainHash.
CREATE INDEX IF NOT EXISTS IX_RemindersTable_ServiceId_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

-- Insert or update a reminder; returns its new Version (the ETag).
CREATE OR REPLACE FUNCTION upsert_reminder_row(
    ServiceIdArg    OrleansRemindersTable.ServiceId%TYPE,
    GrainIdArg      OrleansRemindersTable.GrainId%TYPE,
    ReminderNameArg OrleansRemindersTable.ReminderName%TYPE,
    StartTimeArg    OrleansRemindersTable.StartTime%TYPE,
    PeriodArg       OrleansRemindersTable.Period%TYPE,
    GrainHashArg    OrleansRemindersTable.GrainHash%TYPE)
RETURNS TABLE (version integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    new_version integer := 0;
BEGIN
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (ServiceIdArg, GrainIdArg, ReminderNameArg, StartTimeArg, PeriodArg, GrainHashArg, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
        SET StartTime = EXCLUDED.StartTime,
            Period    = EXCLUDED.Period,
            GrainHash = EXCLUDED.GrainHash,
            Version   = r.Version + 1
    RETURNING r.Version INTO STRICT new_version;

    RETURN QUERY SELECT new_version;
END
$fn$;

-- Delete one reminder if its version still matches; returns the number of
-- rows removed (read by the provider as a bool).
CREATE OR REPLACE FUNCTION delete_reminder_row(
    ServiceIdArg    OrleansRemindersTable.ServiceId%TYPE,
    GrainIdArg      OrleansRemindersTable.GrainId%TYPE,
    ReminderNameArg OrleansRemindersTable.ReminderName%TYPE,
    VersionArg      OrleansRemindersTable.Version%TYPE)
RETURNS TABLE (row_count integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    affected integer := 0;
BEGIN
    DELETE FROM OrleansRemindersTable
     WHERE ServiceId    = ServiceIdArg    AND ServiceIdArg    IS NOT NULL
       AND GrainId      = GrainIdArg      AND GrainIdArg      IS NOT NULL
       AND ReminderName = ReminderNameArg AND ReminderNameArg IS NOT NULL
       AND Version      = VersionArg      AND VersionArg      IS NOT NULL;

    GET DIAGNOSTICS affected = ROW_COUNT;
    RETURN QUERY SELECT affected;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    -- @Period arrives as int or bigint depending on its size.
    'UpsertReminderRowKey',
    $q$
    SELECT * FROM upsert_reminder_row(
        @ServiceId, @GrainId, @ReminderName, @StartTime, @Period::bigint, @GrainHash);
    $q$
),
(
    'ReadReminderRowsKey',
    $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
       AND GrainId   = @GrainId   AND @GrainId   IS NOT NULL;
    $q$
),
(
    'ReadReminderRowKey',
    $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId    = @ServiceId    AND @ServiceId    IS NOT NULL
       AND GrainId      = @GrainId      AND @GrainId      IS NOT NULL
       AND ReminderName = @ReminderName AND @ReminderName IS NOT NULL;
    $q$
),
(
    -- Non-wrapping ring range (BeginHash < EndHash as signed ints): (begin, end].
    'ReadRangeRows1Key',
    $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
       AND GrainHash > @BeginHash AND @BeginHash IS NOT NULL
       AND GrainHash <= @EndHash  AND @EndHash   IS NOT NULL;
    $q$
),
(
    -- Wrapping ring range: (begin, max] plus [min, end].
    'ReadRangeRows2Key',
    $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL
       AND ((GrainHash > @BeginHash AND @BeginHash IS NOT NULL)
            OR (GrainHash <= @EndHash AND @EndHash IS NOT NULL));
    $q$
),
(
    'DeleteReminderRowKey',
    $q$
    SELECT * FROM delete_reminder_row(@ServiceId, @GrainId, @ReminderName, @Version);
    $q$
),
(
    'DeleteReminderRowsKey',
    $q$
    DELETE FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId AND @ServiceId IS NOT NULL;
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
