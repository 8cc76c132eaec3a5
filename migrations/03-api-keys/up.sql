-- API keys: shown once when created, stored as SHA-256 of their secret part.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,             -- the public part of the key (pdk_<id>_<secret>)
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('reader', 'cashier', 'manager', 'admin')),
    secret_hash   BLOB NOT NULL,                -- SHA-256 of the secret part
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_used_at  INTEGER
) STRICT;
