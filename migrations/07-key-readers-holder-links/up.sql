-- 1. Keys bound to readers: a bound key scans only as one of its readers. A key with no row
--    here is bound to none and may act as any reader its role allows. The reader need not be
--    registered yet (a gate is bound before its first scan registers it).
CREATE TABLE api_key_readers (
    key_id     TEXT NOT NULL REFERENCES api_keys(id),
    reader_id  TEXT NOT NULL,
    PRIMARY KEY (key_id, reader_id)
) STRICT, WITHOUT ROWID;

-- 2. The holder page's unguessable link: /p/<token>, 128 random bits as 32 lowercase hex
--    digits, never the pass id or extId. Keyed by the token (the page's lookup is one probe);
--    the pass id is unique (a pass has one link, found for its downloadUrl). New passes get
--    theirs from the OS RNG where they are written (pass_store::upsert_pass); the passes
--    already here get one from SQLite's randomblob(), a ChaCha20 generator seeded from the OS.
CREATE TABLE holder_links (
    token    TEXT PRIMARY KEY CHECK (length(token) = 32 AND token NOT GLOB '*[^0-9a-f]*'),
    pass_id  TEXT NOT NULL REFERENCES passes(id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
-- In token order, and the pass id's index made after: both b-trees are then written in order
-- (a million passes in seconds, not a minute of random page writes).
INSERT INTO holder_links (token, pass_id)
    SELECT lower(hex(randomblob(16))) AS token, id FROM passes ORDER BY token;
CREATE UNIQUE INDEX holder_links_pass ON holder_links(pass_id);
