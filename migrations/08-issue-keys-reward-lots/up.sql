-- What issuance and reward deletion must not lose.
--
-- 1. `POST /api/v1/passes` with an `Idempotency-Key`: the key, a hash of the canonical request
--    and the pass it made, written in the same transaction as the pass (and its initial balance),
--    so a retry answers that pass and a different request under the same key is refused.
--    Keyed by the key alone (WITHOUT ROWID): a retry is one probe of one b-tree. The reference
--    keeps the pass it answers with.
CREATE TABLE issue_requests (
    idempotency_key TEXT PRIMARY KEY,           -- a UUID in canonical lowercase form
    request_hash    TEXT NOT NULL,              -- SHA-256 (hex) of the canonical request
    pass_id         TEXT NOT NULL REFERENCES passes(id),
    at              INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- 2. The points a reward took from each lot when it was created, as JSON
--    `[[<the lot's seq>, <points>], ...]`, so that deleting the reward puts them back into those
--    lots with the expiry they always had. In the reward's own row: no page more to write. NULL
--    for a stamp reward (no lots), for a reward redeemed as it was created (it can never be
--    deleted), and for every reward created before this migration: no record exists for those,
--    so deleting one still gives its points back as a new lot that never expires (the
--    behaviour they were created under).
ALTER TABLE loyalty_rewards ADD COLUMN taken_lots TEXT;
