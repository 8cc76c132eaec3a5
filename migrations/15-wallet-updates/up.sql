-- Apple's pass update web service (issue 16): which phones hold which of our passes, and what
-- each was last told.
--
-- A phone registers a pass (its device library id, the pass type id, the serial number = our
-- pass id) with the push token Apple gave it for that device. When is a pass "updated"? That is
-- derived from what is written anyway (the pass row's `updated_at`, its loyalty account's
-- `updated_at`, kept in the transaction of every ledger entry, its template's, event's and
-- loyalty program's): a loyalty change marks the pass updated with no write of its own, and
-- the scan path writes nothing here.
--
-- One device, one push token (Apple's: a token per device and pass type id; we serve one
-- pass type id).
CREATE TABLE wallet_apple_devices (
    device_library_id TEXT PRIMARY KEY,
    push_token        TEXT NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The APNs queue is the difference between a pass's change time and `pushed_through`: the
-- change time the device was last pushed for (at registration: the pass as it was then, which
-- the phone just fetched). A registration whose pass changed later is due a push.
CREATE TABLE wallet_apple_registrations (
    device_library_id TEXT NOT NULL
        REFERENCES wallet_apple_devices(device_library_id) ON DELETE CASCADE,
    pass_type_id      TEXT NOT NULL,
    pass_id           TEXT NOT NULL REFERENCES passes(id) ON DELETE CASCADE,
    registered_at     INTEGER NOT NULL,
    pushed_through    INTEGER NOT NULL,
    PRIMARY KEY (device_library_id, pass_type_id, pass_id)
) STRICT, WITHOUT ROWID;
-- For the foreign key from passes (a pass deleted takes its registrations along).
CREATE INDEX wallet_apple_registrations_pass ON wallet_apple_registrations(pass_id);
