-- Keep in step with migrations/postgres.
-- The citizen's own order in the archive. A letter lies in one place: the
-- inbox (no folder, not archived), the archive, one of the citizen's folders,
-- or the trash (deleted_at set; emptied after mailbox.trash_days). A purged
-- letter keeps its row as a tombstone, because the agency's message record
-- refers to it, but loses its documents, access log and sensitive title.

CREATE TABLE folder (
    id         BLOB PRIMARY KEY NOT NULL,
    owner_fnr  TEXT NOT NULL REFERENCES citizen (fnr),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Names are unique per citizen, whatever their case.
CREATE UNIQUE INDEX folder_name_per_owner ON folder (owner_fnr, lower(name));

ALTER TABLE letter ADD COLUMN folder_id BLOB REFERENCES folder (id);
ALTER TABLE letter ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
ALTER TABLE letter ADD COLUMN deleted_at TEXT;
ALTER TABLE letter ADD COLUMN purged_at TEXT;

CREATE INDEX letter_in_folder ON letter (folder_id) WHERE folder_id IS NOT NULL;
-- The purge looks for letters deleted long enough ago.
CREATE INDEX letter_in_trash ON letter (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

-- Documents the citizen uploaded to their own archive; bytes in the blob store.
CREATE TABLE upload (
    id          BLOB PRIMARY KEY NOT NULL,
    owner_fnr   TEXT NOT NULL REFERENCES citizen (fnr),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    uploaded_at TEXT NOT NULL
) STRICT;

CREATE INDEX upload_by_owner ON upload (owner_fnr, uploaded_at DESC);
