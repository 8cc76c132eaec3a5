-- Provider webhooks in (issue 15): every event a provider posted and this counter applied or
-- acknowledged, once. A repeat (the provider's retry, a replay) finds its row here first and
-- changes nothing. Written in the event's own transaction, with the cache change and its
-- outbox event; a refused body writes nothing. The scan path never reads or writes it.
CREATE TABLE hook_events (
    provider     TEXT NOT NULL CHECK (provider IN ('passentry', 'passcreator', 'skycore')),
    dedup_key    TEXT NOT NULL,      -- the provider's event id (PassEntry data.id), else SHA-256 (hex) of the body
    event        TEXT NOT NULL,      -- the provider's word: passInstalled, pass_voided, N804, GENERATE_PASS/N801
    pass_id      TEXT,               -- the cached pass it was about (NULL: none); no foreign key, the log outlives passes
    event_at     INTEGER,            -- when the provider says it happened, if it says so with a zone
    received_at  INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('installed', 'removed', 'tapped', 'created', 'updated', 'voided', 'noted')),
    detail       TEXT,               -- JSON: a tap's facts (reader, tappedAt, successful); why an event was only noted
    PRIMARY KEY (provider, dedup_key)
) STRICT, WITHOUT ROWID;
