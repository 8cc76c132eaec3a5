-- Outbound webhooks. A subscription receives the outbox's events after `after_seq` (the outbox's
-- end when it was made) in its format; the fan-out turns each event into one delivery per
-- subscription that wants it, in one transaction with the cursor that says how far it got, and
-- the worker sends the deliveries. The scan path only appends to the outbox, as before.

CREATE TABLE webhook_subscriptions (
    id              TEXT PRIMARY KEY,             -- UUIDv7
    url             TEXT NOT NULL,                -- http or https
    format          TEXT NOT NULL CHECK (format IN ('passentry', 'passcreator', 'skycore-xml', 'skycore-json', 'standard')),
    events          TEXT NOT NULL,                -- JSON array of PassEntry event names; [] = every event
    secret          TEXT NOT NULL,                -- whsec_...: shown on create and rotate only
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason TEXT,                         -- set when the counter turned it off: 'gone' (410), 'failing'
    after_seq       INTEGER NOT NULL,             -- its events are the outbox's after this seq
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_success_at INTEGER,
    failing_since   INTEGER,                      -- the first failure since the last success
    last_error      TEXT,
    backlog         INTEGER NOT NULL DEFAULT 0    -- its pending deliveries, kept with every change of state
) STRICT;

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,             -- UUIDv7
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,                -- the outbox event's UUIDv7: webhook-id on every attempt
    event_type      TEXT NOT NULL,                -- PassEntry's name (passTapped, webhookTest, ...)
    event_name      TEXT NOT NULL,                -- the format's word (pass_created, N801, ...)
    event_at        INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,   -- counted against the retry schedule; `retry` starts it afresh (the log keeps every one)
    next_attempt_at INTEGER,                      -- when a pending delivery is due
    content_type    TEXT NOT NULL,
    body            BLOB,                         -- rendered at fan-out; dropped once delivered
    created_at      INTEGER NOT NULL,
    done_at         INTEGER,                      -- delivered, or given up
    last_status     INTEGER,                      -- the last answer's HTTP status
    last_error      TEXT,
    UNIQUE (subscription_id, event_id)
) STRICT;
-- A subscription's due deliveries, oldest first (the worker).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(subscription_id, next_attempt_at)
    WHERE state = 'pending';
-- The delivery log, newest first, per subscription or all (the API, `webhooks deliveries`),
-- and retention (oldest first).
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(subscription_id, created_at);
-- The failed ones, newest first (`webhooks deliveries --failed`, the Webhooks page): few rows,
-- so a list and its count never walk the whole log.
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries(created_at) WHERE state = 'failed';

CREATE TABLE webhook_attempts (
    delivery_id     TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    n               INTEGER NOT NULL,             -- 1, 2, ...
    at              INTEGER NOT NULL,
    status          INTEGER,                      -- HTTP status; NULL: no answer
    latency_ms      INTEGER NOT NULL,
    error           TEXT,                         -- what went wrong, in words
    PRIMARY KEY (delivery_id, n)
) STRICT, WITHOUT ROWID;

-- How far the fan-out has read the outbox.
CREATE TABLE webhook_cursor (
    one             INTEGER PRIMARY KEY CHECK (one = 1),
    after_seq       INTEGER NOT NULL
) STRICT;
INSERT INTO webhook_cursor (one, after_seq) SELECT 1, coalesce(max(seq), 0) FROM outbox;

-- Retention deletes outbox events that have been fanned out. The foreign key from
-- loyalty_operations.outbox_seq makes SQLite look for an operation that refers to each deleted
-- event: without an index that is a scan of every operation, per event (seconds per thousand
-- events on 100,000 operations). Partial: only operations whose answer still lies in the
-- outbox; retention copies it into `result` and clears the reference before the delete.
CREATE INDEX loyalty_operations_outbox ON loyalty_operations(outbox_seq)
    WHERE outbox_seq IS NOT NULL;
