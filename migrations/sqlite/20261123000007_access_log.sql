-- Keep in step with migrations/postgres.
-- Every view of a letter and every download of its documents, with the login
-- level, shown to the citizen as the letter's access log.
CREATE TABLE letter_access (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id      BLOB NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr      TEXT NOT NULL,
    accessed_at    TEXT NOT NULL,
    -- 'view' (the letter page) or 'download' (a document).
    kind           TEXT NOT NULL CHECK (kind IN ('view', 'download')),
    document_index INTEGER,
    level          INTEGER NOT NULL CHECK (level IN (3, 4))
) STRICT;

CREATE INDEX letter_access_by_letter ON letter_access (letter_id, owner_fnr, accessed_at);
