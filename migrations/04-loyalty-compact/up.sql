-- Fewer pages per loyalty operation. A cashier's earn or redeem touches one pass's rows in
-- several tables; each b-tree it touches is a page read (often from disk on a large store) and a
-- page written to the WAL. Here the tables looked up by their key become WITHOUT ROWID tables
-- (one b-tree instead of a rowid table plus the index of its key), a pass's point lots are
-- stored together under (pass_id, seq), and the index of unsynced redemptions goes: the ledger's
-- (pass_id, seq) index already finds a pass's few entries.

CREATE TABLE loyalty_accounts_compact (
    pass_id         TEXT PRIMARY KEY REFERENCES passes(id),
    points          INTEGER NOT NULL DEFAULT 0,
    stamps          INTEGER NOT NULL DEFAULT 0,
    reserved_points INTEGER NOT NULL DEFAULT 0,
    reserved_stamps INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO loyalty_accounts_compact
    SELECT pass_id, points, stamps, reserved_points, reserved_stamps, updated_at FROM loyalty_accounts;
DROP TABLE loyalty_accounts;
ALTER TABLE loyalty_accounts_compact RENAME TO loyalty_accounts;

-- Points credited together, consumed oldest first (seq order), expiring together.
CREATE TABLE loyalty_lots_compact (
    pass_id       TEXT NOT NULL REFERENCES passes(id),
    seq           INTEGER NOT NULL,             -- the crediting entry's seq: the age of the lot
    entry_id      TEXT NOT NULL,                -- the ledger entry that credited them
    remaining     INTEGER NOT NULL CHECK (remaining >= 0),
    expires_at    INTEGER,                      -- NULL: never
    PRIMARY KEY (pass_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO loyalty_lots_compact
    SELECT pass_id, seq, entry_id, remaining, expires_at FROM loyalty_lots;
DROP TABLE loyalty_lots;
ALTER TABLE loyalty_lots_compact RENAME TO loyalty_lots;

CREATE TABLE loyalty_rewards_compact (
    id            TEXT PRIMARY KEY,             -- UUIDv7
    pass_id       TEXT NOT NULL REFERENCES passes(id),
    tier_name     TEXT NOT NULL,
    unit          TEXT NOT NULL CHECK (unit IN ('points', 'stamps')),
    cost          INTEGER NOT NULL CHECK (cost > 0),
    status        TEXT NOT NULL CHECK (status IN ('available', 'redeemed', 'deleted')),
    created_at    INTEGER NOT NULL,
    closed_at     INTEGER                       -- redeemed or deleted
) STRICT, WITHOUT ROWID;
INSERT INTO loyalty_rewards_compact
    SELECT id, pass_id, tier_name, unit, cost, status, created_at, closed_at FROM loyalty_rewards;
DROP TABLE loyalty_rewards;
ALTER TABLE loyalty_rewards_compact RENAME TO loyalty_rewards;
CREATE INDEX loyalty_rewards_pass ON loyalty_rewards(pass_id, status);

DROP INDEX loyalty_ledger_unsynced_redeems;
