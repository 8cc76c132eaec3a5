-- Fewer pages per write, for every scan and every loyalty operation.
-- 1. The outbox's id needs no index: ids are UUIDv7s minted here, and the workers read the
--    outbox in seq order. One b-tree per event instead of two.
-- 2. A loyalty operation's result is the payload of the passLoyaltyUpdated event it wrote, so
--    the idempotency row points at that event instead of holding a second copy, and is keyed
--    by its op id alone (WITHOUT ROWID). The reference also keeps the event: an outbox row that
--    answers a replay cannot be deleted while foreign keys are on.

CREATE TABLE outbox_lean (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,            -- UUIDv7 (webhook-id)
    topic         TEXT NOT NULL,            -- passTapped, passImported, ...
    subject_id    TEXT NOT NULL,            -- the scan id, pass id, ...
    payload       TEXT NOT NULL,            -- JSON
    created_at    INTEGER NOT NULL
) STRICT;
INSERT INTO outbox_lean SELECT seq, id, topic, subject_id, payload, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_lean RENAME TO outbox;

CREATE TABLE loyalty_operations_lean (
    op_id         TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,                -- SHA-256 of the canonical request
    outbox_seq    INTEGER REFERENCES outbox(seq), -- the event whose payload is the result
    result        TEXT,                         -- the result of operations recorded before this migration
    at            INTEGER NOT NULL,
    CHECK ((outbox_seq IS NULL) <> (result IS NULL))
) STRICT, WITHOUT ROWID;
INSERT INTO loyalty_operations_lean (op_id, request_hash, result, at)
    SELECT op_id, request_hash, result, at FROM loyalty_operations;
DROP TABLE loyalty_operations;
ALTER TABLE loyalty_operations_lean RENAME TO loyalty_operations;
