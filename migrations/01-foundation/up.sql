-- Passdesk foundation schema. Never edit this file once released: add 02-... instead.
-- Times are unix milliseconds UTC (INTEGER); JSON columns hold provider data as given.

-- This node: one row. The private key never leaves this table (the database file is 0600).
CREATE TABLE node (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    node_id       TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    private_key   BLOB NOT NULL,            -- PKCS#8 DER, P-256
    created_at    INTEGER NOT NULL
) STRICT;

-- Public keys of every node whose PD1 tokens we trust (ours included).
CREATE TABLE node_keys (
    key_id        TEXT PRIMARY KEY,         -- hex of the first 8 bytes of SHA-256(SEC1 compressed key)
    node_id       TEXT NOT NULL,
    public_key    BLOB NOT NULL,            -- SEC1 compressed point
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;

CREATE TABLE revoked_tokens (
    token_id      TEXT PRIMARY KEY,         -- the `tid` of a PD1 token
    pass_id       TEXT,
    reason        TEXT,
    revoked_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE templates (
    id            TEXT PRIMARY KEY,         -- PassEntry passTemplateUuid
    name          TEXT NOT NULL,
    pass_type     TEXT NOT NULL DEFAULT 'generic',  -- PassEntry templateType / passType
    design        TEXT,                     -- JSON: colours, images
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    venue_name    TEXT,
    start_time    INTEGER,
    end_time      INTEGER,
    time_zone     TEXT NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE passes (
    id                    TEXT PRIMARY KEY,
    ext_id                TEXT,
    status                TEXT NOT NULL,    -- issued, active, removed, voided, deactivated, expired
    pass_type             TEXT NOT NULL,    -- generic, storeCard, eventTicket, ...
    device_type           TEXT,             -- apple, android
    template_id           TEXT NOT NULL REFERENCES templates(id),
    event_id              TEXT REFERENCES events(id),
    barcode_type          TEXT,
    barcode_value         TEXT,
    barcode_display_text  INTEGER,
    nfc_value             TEXT,
    group_tag             TEXT,
    holder_name           TEXT,             -- from passContent.fullName, for display and search
    pass_content          TEXT NOT NULL DEFAULT '{}',
    latest_message        TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    added_at              INTEGER,
    removed_at            INTEGER,
    deactivated_at        INTEGER,
    expires_at            INTEGER,
    valid_from            INTEGER,
    valid_until           INTEGER
) STRICT;
-- A scanned value must name one pass: barcode and NFC values are unique.
CREATE UNIQUE INDEX passes_barcode_value ON passes(barcode_value) WHERE barcode_value IS NOT NULL;
CREATE UNIQUE INDEX passes_nfc_value ON passes(nfc_value) WHERE nfc_value IS NOT NULL;
CREATE INDEX passes_ext_id ON passes(ext_id) WHERE ext_id IS NOT NULL;
CREATE INDEX passes_template ON passes(template_id);
CREATE INDEX passes_event ON passes(event_id) WHERE event_id IS NOT NULL;

-- How passes of an event or a template may be admitted. The event's policy wins over the template's.
CREATE TABLE checkin_policies (
    scope               TEXT NOT NULL CHECK (scope IN ('event', 'template')),
    scope_id            TEXT NOT NULL,
    entry_mode          TEXT NOT NULL CHECK (entry_mode IN ('single', 'multiple', 'entry_exit')),
    max_entries         INTEGER CHECK (max_entries IS NULL OR max_entries > 0),
    duplicate_window_ms INTEGER NOT NULL DEFAULT 10000 CHECK (duplicate_window_ms >= 0),
    valid_from          INTEGER,
    valid_until         INTEGER,
    allowed_readers     TEXT,               -- JSON array of reader ids; NULL = every reader
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_id)
) STRICT;

CREATE TABLE readers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    reader_type         TEXT NOT NULL DEFAULT 'PassdeskCounter',
    event_id            TEXT REFERENCES events(id),  -- a gate bound to one event rejects other events' passes
    direction           TEXT NOT NULL DEFAULT 'entry' CHECK (direction IN ('entry', 'exit')),
    scan_enabled        INTEGER NOT NULL DEFAULT 1,
    redeem_enabled      INTEGER NOT NULL DEFAULT 1,
    add_points_enabled  INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

-- The audit log: one row per scan, accepted or not. Append-only.
CREATE TABLE scans (
    seq           INTEGER PRIMARY KEY,      -- local order
    id            TEXT NOT NULL UNIQUE,     -- UUIDv7, the id sync will carry
    node_id       TEXT NOT NULL,
    at            INTEGER NOT NULL,
    reader_id     TEXT NOT NULL,
    medium        TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    value         TEXT NOT NULL,            -- as read, cut to 256 characters for the log
    value_len     INTEGER NOT NULL,         -- length in bytes of what was read
    pass_id       TEXT,                     -- no foreign key: a token-validated pass may not be cached
    verdict       TEXT NOT NULL CHECK (verdict IN ('accept', 'reject')),
    reason        TEXT,
    detail        TEXT,
    counted       INTEGER NOT NULL,         -- 1: an admission (entry or exit) that entry rules count
    duplicate_of  TEXT,                     -- the earlier scan this tap repeated inside the duplicate window
    via_token     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX scans_pass ON scans(pass_id, seq) WHERE pass_id IS NOT NULL;
CREATE INDEX scans_at ON scans(at);

-- Domain events waiting to leave this node (webhooks, upstream sync). Written in the same
-- transaction as the change they describe.
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,     -- UUIDv7
    topic         TEXT NOT NULL,            -- passTapped, passImported, ...
    subject_id    TEXT NOT NULL,            -- the scan id, pass id, ...
    payload       TEXT NOT NULL,            -- JSON
    created_at    INTEGER NOT NULL
) STRICT;
