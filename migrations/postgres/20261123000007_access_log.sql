-- Keep in step with migrations/sqlite.
-- Every view of a letter and every download of its documents, with the login
-- level, shown to the citizen as the letter's access log.
CREATE TABLE letter_access (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    letter_id      UUID NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr      TEXT NOT NULL,
    accessed_at    TIMESTAMPTZ NOT NULL,
    -- 'view' (the letter page) or 'download' (a document).
    kind           TEXT NOT NULL CHECK (kind IN ('view', 'download')),
    document_index INTEGER,
    level          INTEGER NOT NULL CHECK (level IN (3, 4))
);

CREATE INDEX letter_access_by_letter ON letter_access (letter_id, owner_fnr, accessed_at);
