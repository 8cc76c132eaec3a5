-- Wallet passes issued at the counter (issue 16).
--
-- Apple's pass update protocol names a pass by its pass type id and serial number (our pass id)
-- and authenticates the phone with the pass's `authenticationToken`, written into pass.json
-- when the .pkpass is first built. 128 random bits, lowercase hex: Apple asks for at least 16
-- characters. A pass keeps its token for life: a phone holding an older .pkpass still updates.
-- The scan path writes none of this.
CREATE TABLE wallet_apple_tokens (
    pass_id     TEXT PRIMARY KEY REFERENCES passes(id) ON DELETE CASCADE,
    token       TEXT NOT NULL UNIQUE CHECK (length(token) = 32 AND token NOT GLOB '*[^0-9a-f]*'),
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
