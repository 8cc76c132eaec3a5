-- PassEntry as upstream (issue 15): this counter's copy of a PassEntry account and the requests
-- that tell PassEntry what happened here. The scan path writes none of these tables and gains
-- no index to update: a scan still writes its row, its tally and its outbox event only.

-- One row. Attached = base_url is set (`[upstream.passentry]` in passdesk.toml); only then does
-- retention keep the outbox events after push_cursor. The pull's progress is stored in the
-- transaction that applied each page, so a crash resumes at the page it reached.
CREATE TABLE upstream_state (
    one               INTEGER PRIMARY KEY CHECK (one = 1),
    base_url          TEXT,                     -- the account's API host; NULL: not attached
    attached_at       INTEGER,
    push_cursor       INTEGER NOT NULL,         -- outbox seq through which events became requests
    cycle             INTEGER NOT NULL DEFAULT 0, -- the last pull cycle started (1, 2, ...)
    pull_stage        TEXT CHECK (pull_stage IN ('templates', 'events', 'passes', 'sweep')),
                                                -- NULL: no pull in progress
    pull_page         INTEGER NOT NULL DEFAULT 1, -- the next page of the stage to ask for
    pull_started_at   INTEGER,
    cycle_pages       INTEGER NOT NULL DEFAULT 0, -- what the cycle in progress did so far
    cycle_passes      INTEGER NOT NULL DEFAULT 0,
    cycle_templates   INTEGER NOT NULL DEFAULT 0,
    cycle_events      INTEGER NOT NULL DEFAULT 0,
    cycle_voided      INTEGER NOT NULL DEFAULT 0,
    cycle_skipped     INTEGER NOT NULL DEFAULT 0,
    last_pull_at      INTEGER,                  -- the last complete cycle's end
    last_pull_passes  INTEGER,
    last_pull_ms      INTEGER,
    last_push_at      INTEGER,                  -- the last request PassEntry answered
    last_error        TEXT,
    last_error_at     INTEGER
) STRICT;
INSERT INTO upstream_state (one, push_cursor) SELECT 1, coalesce(max(seq), 0) FROM outbox;

-- The passes that came from PassEntry (their ids are PassEntry's passIds), the last cycle that
-- saw each in a page, and PassEntry's loyalty balance as last read. A pass not seen by a
-- complete cycle is confirmed with GET /passes/{id}: gone (404) → voided here, gone_at set.
CREATE TABLE upstream_passes (
    pass_id     TEXT PRIMARY KEY,
    seen_cycle  INTEGER NOT NULL,
    balance     INTEGER,
    gone_at     INTEGER
) STRICT, WITHOUT ROWID;
-- The sweep's candidates: seen by an earlier cycle than the one ending (a range of this index).
CREATE INDEX upstream_passes_seen ON upstream_passes(seen_cycle) WHERE gone_at IS NULL;

-- The requests to PassEntry, one per outbox event that needs one, made in the transaction that
-- moved push_cursor past it. Sent in id order, one at a time. `sending` is committed before the
-- request goes out: a row found `sending` at start is resolved by reading back, never blindly
-- sent again (PassEntry takes no idempotency key).
CREATE TABLE upstream_requests (
    id                INTEGER PRIMARY KEY,
    outbox_id         TEXT NOT NULL UNIQUE,     -- the outbox event it was made for
    kind              TEXT NOT NULL CHECK (kind IN ('scanLog', 'loyalty')),
    pass_id           TEXT NOT NULL,
    method            TEXT NOT NULL,
    path              TEXT NOT NULL,
    body              TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'acknowledged', 'refused', 'uncertain')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,                  -- a pending row waits until then (backoff, Retry-After)
    balance_before    INTEGER,                  -- loyalty: PassEntry's balance before, as read when sending
    balance_expected  INTEGER,                  -- loyalty: the balance once this request is applied
    balance_found     INTEGER,                  -- loyalty read-back: what PassEntry had (uncertain)
    status            INTEGER,                  -- the last answer's HTTP status
    answer            TEXT,                     -- the last answer's body (capped)
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER,
    done_at           INTEGER
) STRICT;
-- The queue: what is still to send, in order.
CREATE INDEX upstream_requests_open ON upstream_requests(id) WHERE state IN ('pending', 'sending');
-- What a person must look at: refused and uncertain, newest first.
CREATE INDEX upstream_requests_attention ON upstream_requests(id) WHERE state IN ('refused', 'uncertain');
