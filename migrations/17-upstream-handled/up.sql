-- A person settles what the upstream push could not: a refused request is sent again once
-- its cause is fixed in PassEntry (its state back to pending), or a refused or uncertain one
-- is marked handled (handled_at): kept for the record, no longer shown as needing a person.
ALTER TABLE upstream_requests ADD COLUMN handled_at INTEGER;
DROP INDEX upstream_requests_attention;
CREATE INDEX upstream_requests_attention ON upstream_requests(id)
    WHERE state IN ('refused', 'uncertain') AND handled_at IS NULL;
