-- Expiring probes: the once-only record of notices and the last evaluated day (docs/expiry.md).
-- Idempotent; run by the silo at start inside the migration lock.

-- One row per notice ever sent. The primary key is the once-only promise: a run that would record a
-- notice again fails as a whole, with its mails, which are queued in the same transaction.
CREATE TABLE IF NOT EXISTS expiry_notices (
    probe       text        NOT NULL,
    version     text        NOT NULL,
    stage       text        NOT NULL CONSTRAINT expiry_notices_stage_known CHECK (stage IN ('first', 'final')),
    expiry_date date        NOT NULL,
    as_of       date        NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (probe, version, stage)
);

-- A single row: the last day the schedule was evaluated (null before the first run). Every recording
-- run locks it (SELECT ... FOR UPDATE) first, so runs on different silos take turns and each sees the
-- notices the one before it recorded.
CREATE TABLE IF NOT EXISTS expiry_runs (
    id         smallint    PRIMARY KEY CONSTRAINT expiry_runs_single_row CHECK (id = 1),
    last_run   date,
    updated_at timestamptz
);
INSERT INTO expiry_runs (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
