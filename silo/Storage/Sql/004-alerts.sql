-- Alerts, subscriptions and sign-in (docs/alerts.md). Idempotent; run by the silo at start inside the migration lock.

-- Folded rows listed in a digest become 'digested'.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_state_known;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_known
    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'folded', 'discarded', 'digested'));

-- One row per alert, named for good by its natural key (e.g. regression:nightly:GC_MS:20260101:default).
-- An alert and its outbox rows are written in one transaction. history is a JSON array of
-- {"at","by","action","state","comment","bug"}, oldest first.
CREATE TABLE IF NOT EXISTS alerts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL,
    alert_key     text        NOT NULL CONSTRAINT alerts_key UNIQUE,
    group_key     text,
    title         text        NOT NULL,
    summary       text        NOT NULL,
    channel       text,
    subject       text,
    detector      text,
    occurred_on   date,
    score         double precision,
    subscription_id bigint,
    owners        text[]      NOT NULL,
    details       jsonb       NOT NULL,
    notify        boolean     NOT NULL,
    state         text        NOT NULL
                  CONSTRAINT alerts_state_known CHECK (state IN ('new', 'acknowledged', 'resolved', 'invalid', 'regressed')),
    snoozed_until timestamptz,
    muted         boolean     NOT NULL DEFAULT false,
    history       jsonb       NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_kind_occurred ON alerts (kind, occurred_on DESC, id DESC);
CREATE INDEX IF NOT EXISTS alerts_group_open ON alerts (group_key) WHERE group_key IS NOT NULL AND state IN ('new', 'acknowledged', 'regressed');

-- A person's subscriptions; params is the kind's JSON as the API shows it.
CREATE TABLE IF NOT EXISTS subscriptions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text        NOT NULL,
    kind        text        NOT NULL,
    params      jsonb       NOT NULL,
    delivery    text        NOT NULL CONSTRAINT subscriptions_delivery_known CHECK (delivery IN ('immediate', 'digest')),
    digest_hour smallint    NOT NULL CONSTRAINT subscriptions_digest_hour CHECK (digest_hour BETWEEN 0 AND 23),
    paused      boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_email ON subscriptions (email, id);
CREATE INDEX IF NOT EXISTS subscriptions_active_kind ON subscriptions (kind) WHERE NOT paused;

-- Probe owners (alert_emails) who opted out of mail about one probe.
CREATE TABLE IF NOT EXISTS owner_opt_outs (
    email      text        NOT NULL,
    probe      text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (probe, email)
);

-- Sign-in links: single use (used_at), and counted per address for the rate limit.
CREATE TABLE IF NOT EXISTS signin_links (
    nonce      text        PRIMARY KEY,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX IF NOT EXISTS signin_links_email ON signin_links (email, created_at);

-- Secrets generated once per cluster (the token signing key when Auth:SigningKey is not set).
CREATE TABLE IF NOT EXISTS cluster_secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
