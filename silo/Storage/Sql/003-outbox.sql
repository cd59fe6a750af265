-- The email outbox (docs/notifications.md). Idempotent; run by the silo at start inside the migration lock.

-- REVIEW: no retention yet. Sent rows are what makes a repeated enqueue a no-op, so deleting them
-- must wait until the alerts they name can no longer be recorded again.
-- One row per (alert, recipient): the unique pair is what keeps an alert from being mailed twice to
-- the same person across restarts and silos. next_attempt_at is when the row is due: its next
-- attempt while pending, the end of its claim while sending (a crashed dispatcher's row is due
-- again when the claim runs out).
CREATE TABLE IF NOT EXISTS outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_key       text        NOT NULL,
    recipient       text        NOT NULL,
    kind            text        NOT NULL,
    subject         text        NOT NULL,
    text_body       text        NOT NULL,
    html_body       text,
    unsubscribe_url text,
    state           text        NOT NULL DEFAULT 'pending'
                    CONSTRAINT outbox_state_known CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'folded', 'discarded')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    claimed_by      text,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    CONSTRAINT outbox_alert_recipient UNIQUE (alert_key, recipient)
);

-- Claiming: the due rows, oldest first.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, id) WHERE state IN ('pending', 'sending');
-- The admin listing (newest first per state) and the gauges.
CREATE INDEX IF NOT EXISTS outbox_state_id ON outbox (state, id);
-- Flood control: mails sent to a recipient in the last hour; digests: a recipient's folded rows.
CREATE INDEX IF NOT EXISTS outbox_recipient_sent ON outbox (recipient, sent_at) WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS outbox_recipient_folded ON outbox (recipient, id) WHERE state = 'folded';
-- A person's own mail, newest first (the portal's "what I was sent recently").
CREATE INDEX IF NOT EXISTS outbox_recipient_id ON outbox (recipient, id);
