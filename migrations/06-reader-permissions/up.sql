-- Reader permissions that mean something (issue 12).
--
-- 1. Two new settings. accept_ids: a value that names a pass only by its id or extId (typed by a
--    person, not read from the pass) admits at this reader, flagged; elsewhere it is refused.
--    exit_enabled: a scan may choose its direction here; always on for an exit reader (CHECK).
-- 2. New rows default to scan only. The old table defaulted redeem and add points to on, and
--    the scan path registered every unknown reader id that way, so a till could redeem by
--    naming any reader id. The table is rebuilt because SQLite cannot change a column default.
-- 3. Readers the old code registered on first sight lose redeem and add points (they keep
--    scanning). Such a row was never configured by anyone: its name is its id, it was never
--    updated (created_at = updated_at), it has the registration's other defaults, and a scan
--    at that reader carries the very millisecond it was created (registration and the first
--    scan were one transaction with one timestamp). A reader a manager created through the
--    API without a name also has name = id and created_at = updated_at, but no scan at its
--    creation instant, so it keeps what the manager gave it. A manager re-enables a till's
--    permissions with `passdesk readers set ID --redeem-enabled true --add-points-enabled true` or
--    `PATCH /api/v1/readers/ID`.
--    exit_enabled starts on exactly for the readers whose direction is exit; accept_ids off.

CREATE TABLE readers_new (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    reader_type         TEXT NOT NULL DEFAULT 'PassdeskCounter',
    event_id            TEXT REFERENCES events(id),  -- a gate bound to one event rejects other events' passes
    direction           TEXT NOT NULL DEFAULT 'entry' CHECK (direction IN ('entry', 'exit')),
    scan_enabled        INTEGER NOT NULL DEFAULT 1,
    redeem_enabled      INTEGER NOT NULL DEFAULT 0,
    add_points_enabled  INTEGER NOT NULL DEFAULT 0,
    accept_ids          INTEGER NOT NULL DEFAULT 0,  -- a typed pass id or extId admits here (flagged)
    exit_enabled        INTEGER NOT NULL DEFAULT 0,  -- a scan may choose its direction here
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK (direction = 'entry' OR exit_enabled = 1)
) STRICT;

INSERT INTO readers_new (id, name, reader_type, event_id, direction, scan_enabled, redeem_enabled,
        add_points_enabled, accept_ids, exit_enabled, created_at, updated_at)
    SELECT id, name, reader_type, event_id, direction, scan_enabled, redeem_enabled,
        add_points_enabled, 0, direction = 'exit', created_at, updated_at
    FROM readers;

UPDATE readers_new SET redeem_enabled = 0, add_points_enabled = 0
    WHERE name = id AND created_at = updated_at AND reader_type = 'PassdeskCounter'
      AND event_id IS NULL AND direction = 'entry' AND scan_enabled = 1
      AND EXISTS (SELECT 1 FROM scans WHERE scans.at = readers_new.created_at
                                         AND scans.reader_id = readers_new.id);

DROP TABLE readers;
ALTER TABLE readers_new RENAME TO readers;
