-- Telemetry.Orleans' own tables. Idempotent; run by the silo at start inside the migration lock.

-- The landing log (docs/exactly-once.md). One row per accepted submission; doc_id deduplicates.
-- batch_id is the group commit that wrote the row; (partition, batch_id) is the unit the
-- aggregates apply exactly once.
CREATE SEQUENCE IF NOT EXISTS landing_batch_seq;

CREATE TABLE IF NOT EXISTS landing (
    doc_id          text        NOT NULL PRIMARY KEY,
    batch_id        bigint      NOT NULL,
    partition       integer     NOT NULL,
    submission_date date        NOT NULL,
    received_at     timestamptz NOT NULL,
    path            text        NOT NULL,
    body            bytea       NOT NULL,
    country         text
);

-- Bodies arrive gzip-compressed; compressing them again only costs CPU.
ALTER TABLE landing ALTER COLUMN body SET STORAGE EXTERNAL;

CREATE INDEX IF NOT EXISTS landing_partition_batch ON landing (partition, batch_id) INCLUDE (received_at);
CREATE INDEX IF NOT EXISTS landing_submission_date ON landing (submission_date);

-- Schema version bookkeeping for later migrations.
CREATE TABLE IF NOT EXISTS telemetry_schema (
    name       text        NOT NULL PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Crash-rate aggregates for SQL users (README, "Crash aggregates"): a projection of the crash grains, one
-- submission date replaced atomically at a time.
CREATE TABLE IF NOT EXISTS crash_aggregates (
    submission_date date  NOT NULL,
    activity_date   date  NOT NULL,
    dimensions      jsonb NOT NULL,
    stats           jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS crash_aggregates_submission_date ON crash_aggregates (submission_date);
CREATE INDEX IF NOT EXISTS crash_aggregates_dimensions ON crash_aggregates USING GIN (dimensions);
