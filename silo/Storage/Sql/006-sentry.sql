-- Browser error alerts from Sentry: issues, their days, dead letters (docs/sentry.md).
-- Idempotent; run by the silo at start inside the migration lock.

-- Every save of an issue takes the next value, so the evaluator can ask for "issues changed since".
CREATE SEQUENCE IF NOT EXISTS sentry_change_seq;

-- One row per issue: the columns lists and rankings read, and the whole header (Orleans-serialized
-- SentryIssueHeader: first event's fields, releases, hourly/minute counts, notices, history).
CREATE TABLE IF NOT EXISTS sentry_issues (
    project       text        NOT NULL,
    fingerprint   text        NOT NULL,
    message       text        NOT NULL,
    state         text        NOT NULL,
    snoozed_until timestamptz,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    change_marker bigint      NOT NULL,
    header        bytea       NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (project, fingerprint)
);
CREATE INDEX IF NOT EXISTS sentry_issues_change_marker ON sentry_issues (change_marker);

-- One row per issue and UTC day: distinct events and users (exact or sketch, serialized) and their counts.
CREATE TABLE IF NOT EXISTS sentry_issue_days (
    project     text   NOT NULL,
    fingerprint text   NOT NULL,
    day         date   NOT NULL,
    events      bigint NOT NULL,
    users       bigint NOT NULL,
    counters    bytea  NOT NULL,
    PRIMARY KEY (project, fingerprint, day)
);
CREATE INDEX IF NOT EXISTS sentry_issue_days_project_day ON sentry_issue_days (project, day);

-- Messages that were not events, for admins; the newest are kept, the counts by reason forever.
CREATE TABLE IF NOT EXISTS sentry_dead_letters (
    id          bigserial   PRIMARY KEY,
    received_at timestamptz NOT NULL,
    source      text        NOT NULL CONSTRAINT sentry_dead_letters_source_known CHECK (source IN ('sqs', 'http')),
    reason      text        NOT NULL,
    body        text        NOT NULL
);
CREATE TABLE IF NOT EXISTS sentry_dead_letter_counts (
    reason text   PRIMARY KEY,
    count  bigint NOT NULL
);
