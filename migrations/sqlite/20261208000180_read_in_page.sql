-- Keep in step with migrations/postgres.
-- A letter's access log also notes a document read inside the letter page
-- ('read'), not only its page shown and its documents downloaded. SQLite
-- cannot change a CHECK in place: the table is made again with its rows.
CREATE TABLE letter_access_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id      BLOB NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr      TEXT NOT NULL,
    accessed_at    TEXT NOT NULL,
    -- 'view' (the letter page), 'download' (a document) or 'read' (a
    -- document's pages shown in the letter page).
    kind           TEXT NOT NULL CHECK (kind IN ('view', 'download', 'read')),
    document_index INTEGER,
    level          INTEGER NOT NULL CHECK (level IN (3, 4))
) STRICT;

INSERT INTO letter_access_new (id, letter_id, owner_fnr, accessed_at, kind, document_index, level)
SELECT id, letter_id, owner_fnr, accessed_at, kind, document_index, level FROM letter_access;

DROP TABLE letter_access;
ALTER TABLE letter_access_new RENAME TO letter_access;

CREATE INDEX letter_access_by_letter ON letter_access (letter_id, owner_fnr, accessed_at);
