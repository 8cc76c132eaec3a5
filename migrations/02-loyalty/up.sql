-- Loyalty: programs per template, an append-only ledger per pass, cached balances, point lots
-- (for expiry), rewards, and the idempotency table of operation ids.

CREATE TABLE loyalty_programs (
    template_id                 TEXT PRIMARY KEY REFERENCES templates(id),
    points_per_unit             INTEGER NOT NULL DEFAULT 0 CHECK (points_per_unit >= 0),
    unit_minor                  INTEGER NOT NULL DEFAULT 100 CHECK (unit_minor > 0),  -- points_per_unit points per unit_minor minor units spent
    card_size                   INTEGER CHECK (card_size IS NULL OR card_size > 0),
    stamp_overflow              TEXT NOT NULL DEFAULT 'carry' CHECK (stamp_overflow IN ('carry', 'refuse')),
    expiry_days                 INTEGER CHECK (expiry_days IS NULL OR expiry_days > 0),
    offline_redemptions_per_day INTEGER CHECK (offline_redemptions_per_day IS NULL OR offline_redemptions_per_day >= 0),
    updated_at                  INTEGER NOT NULL
) STRICT;

CREATE TABLE loyalty_tiers (
    template_id   TEXT NOT NULL REFERENCES loyalty_programs(template_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    threshold     INTEGER NOT NULL CHECK (threshold > 0),
    unit          TEXT NOT NULL CHECK (unit IN ('points', 'stamps')),
    PRIMARY KEY (template_id, name)
) STRICT;

-- Every change to a pass's loyalty state. Never updated, never deleted (synced_at aside).
CREATE TABLE loyalty_ledger (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,       -- UUIDv7
    op_id           TEXT NOT NULL,              -- the operation that wrote it
    node_id         TEXT NOT NULL,
    pass_id         TEXT NOT NULL REFERENCES passes(id),
    kind            TEXT NOT NULL CHECK (kind IN ('earn', 'adjust', 'override', 'stamp', 'reward_create',
                        'reward_redeem', 'reward_delete', 'reverse', 'expire')),
    points          INTEGER NOT NULL DEFAULT 0, -- change of the available points
    stamps          INTEGER NOT NULL DEFAULT 0, -- change of the stamps
    reserved_points INTEGER NOT NULL DEFAULT 0, -- change of points held by created rewards
    reserved_stamps INTEGER NOT NULL DEFAULT 0,
    amount_minor    INTEGER,                    -- the purchase an earn was for
    reward_id       TEXT,
    reverses        TEXT,                       -- the entry a reverse compensates
    reason          TEXT,
    at              INTEGER NOT NULL,
    synced_at       INTEGER                     -- set by upstream sync; NULL = only on this node
) STRICT;
CREATE INDEX loyalty_ledger_pass ON loyalty_ledger(pass_id, seq);
CREATE UNIQUE INDEX loyalty_ledger_reverses ON loyalty_ledger(reverses) WHERE reverses IS NOT NULL;
CREATE INDEX loyalty_ledger_unsynced_redeems ON loyalty_ledger(pass_id, at)
    WHERE kind = 'reward_redeem' AND synced_at IS NULL;

-- The fold of the ledger per pass, kept in the same transaction as each entry.
CREATE TABLE loyalty_accounts (
    pass_id         TEXT PRIMARY KEY REFERENCES passes(id),
    points          INTEGER NOT NULL DEFAULT 0,
    stamps          INTEGER NOT NULL DEFAULT 0,
    reserved_points INTEGER NOT NULL DEFAULT 0,
    reserved_stamps INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
) STRICT;

-- Points credited together, consumed oldest first, expiring together.
CREATE TABLE loyalty_lots (
    entry_id      TEXT PRIMARY KEY,             -- the ledger entry that credited them
    pass_id       TEXT NOT NULL REFERENCES passes(id),
    seq           INTEGER NOT NULL,             -- the entry's seq: the age of the lot
    remaining     INTEGER NOT NULL CHECK (remaining >= 0),
    expires_at    INTEGER                       -- NULL: never
) STRICT;
CREATE INDEX loyalty_lots_open ON loyalty_lots(pass_id, seq) WHERE remaining > 0;

CREATE TABLE loyalty_rewards (
    id            TEXT PRIMARY KEY,             -- UUIDv7
    pass_id       TEXT NOT NULL REFERENCES passes(id),
    tier_name     TEXT NOT NULL,
    unit          TEXT NOT NULL CHECK (unit IN ('points', 'stamps')),
    cost          INTEGER NOT NULL CHECK (cost > 0),
    status        TEXT NOT NULL CHECK (status IN ('available', 'redeemed', 'deleted')),
    created_at    INTEGER NOT NULL,
    closed_at     INTEGER                       -- redeemed or deleted
) STRICT;
CREATE INDEX loyalty_rewards_pass ON loyalty_rewards(pass_id, status);

-- Idempotency: an operation id answers with its first result, whatever is replayed.
CREATE TABLE loyalty_operations (
    op_id         TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,                -- SHA-256 of the canonical request
    result        TEXT NOT NULL,                -- JSON of the result
    at            INTEGER NOT NULL
) STRICT;
