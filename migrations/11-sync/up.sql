-- Sync with a hub (issue 14): this node's side. The scan path writes none of these tables and
-- gains no index to update: a scan still writes its row, its tally and its outbox event only.

-- This node's sync state: one row, made empty here. Joined = hub_url is set. The cursors are
-- the hub's log seq this node has applied through (pull) and the outbox seq whose events the
-- hub has accepted (push): each is stored in the transaction that did the work it covers.
CREATE TABLE sync_state (
    one               INTEGER PRIMARY KEY CHECK (one = 1),
    hub_url           TEXT,
    hub_id            TEXT,
    node_name         TEXT,                     -- this node's name at the hub
    credential        TEXT,                     -- the bearer credential: secret, never printed
    joined_at         INTEGER,
    pull_cursor       INTEGER NOT NULL DEFAULT 0,
    push_cursor       INTEGER NOT NULL DEFAULT 0,
    first_contact_at  INTEGER,                  -- before it, everything here was made offline
    last_contact_at   INTEGER,
    last_pull_at      INTEGER,
    last_push_at      INTEGER,
    offline_since     INTEGER,                  -- NULL while the hub answers
    last_error        TEXT,
    CHECK ((hub_url IS NULL) = (credential IS NULL))
) STRICT;
INSERT INTO sync_state (one) VALUES (1);

-- When the hub did not answer. Closed (ended_at) by the next contact; at most one open.
-- Scans and loyalty operations made inside one go up flagged offline.
CREATE TABLE sync_offline_periods (
    started_at  INTEGER PRIMARY KEY,
    ended_at    INTEGER                         -- NULL: still offline
) STRICT;

-- Conflicts the hub found, as it reported them (body: the ConflictRecord's JSON). The gate
-- reads a pass's newest one on each scan of that pass: one probe of (pass_id, detected_at).
CREATE TABLE sync_conflicts (
    id           TEXT PRIMARY KEY,
    pass_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    detected_at  INTEGER NOT NULL,              -- the hub's clock
    received_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sync_conflicts_pass ON sync_conflicts(pass_id, detected_at);
-- The manager's list, newest first.
CREATE INDEX sync_conflicts_detected ON sync_conflicts(detected_at);

-- Changes that were refused: ours by the hub (outbox_seq set), or the hub's that could not be
-- applied here (hub_seq set). Recorded and skipped: a refusal never blocks the queue.
CREATE TABLE sync_rejections (
    change_id   TEXT PRIMARY KEY,
    outbox_seq  INTEGER,
    hub_seq     INTEGER,
    kind        TEXT,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The hub's changes applied here, by id: a replayed batch is a no-op. UUIDv7s: appended in order.
CREATE TABLE sync_applied (
    change_id   TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Other nodes, by the keys the hub enrolled them with: their names, for the words at the gate.
CREATE TABLE sync_nodes (
    node_id     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    key_id      TEXT
) STRICT, WITHOUT ROWID;

-- Other nodes' readers, named as their scans named them: "Already used 19:42 UTC at Gate 1
-- (Gate A)". Keyed by node too: two counters may both have a reader "gate-1".
CREATE TABLE sync_readers (
    node_id     TEXT NOT NULL,
    reader_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    node_name   TEXT,
    PRIMARY KEY (node_id, reader_id)
) STRICT, WITHOUT ROWID;

-- The scan a conflict flagged (the later of two admissions). No index: it is read with the
-- scan's row and written only when a conflict arrives.
ALTER TABLE scans ADD COLUMN conflict_id TEXT;
