-- The search's change log: each letter or upload whose index entry must be
-- read again (new text, moved, deleted, purged), in order. Every node keeps
-- its own index and follows this log, remembering in the index's commit how
-- far it came. No foreign keys: a purged letter's entry must still leave
-- the indexes.
CREATE TABLE search_change (
    position  INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id BLOB,
    upload_id BLOB,
    CHECK ((letter_id IS NULL) <> (upload_id IS NULL))
) STRICT;
