-- Keep in step with migrations/sqlite.
-- The citizen's own order in the archive. A letter lies in one place: the
-- inbox (no folder, not archived), the archive, one of the citizen's folders,
-- or the trash (deleted_at set; emptied after mailbox.trash_days). A purged
-- letter keeps its row as a tombstone, because the agency's message record
-- refers to it, but loses its documents, access log and sensitive title.

CREATE TABLE folder (
    id         UUID PRIMARY KEY,
    owner_fnr  TEXT NOT NULL REFERENCES citizen (fnr),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Names are unique per citizen, whatever their case.
CREATE UNIQUE INDEX folder_name_per_owner ON folder (owner_fnr, lower(name));

ALTER TABLE letter ADD COLUMN folder_id UUID REFERENCES folder (id);
ALTER TABLE letter ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE letter ADD COLUMN deleted_at TIMESTAMPTZ;
ALTER TABLE letter ADD COLUMN purged_at TIMESTAMPTZ;

CREATE INDEX letter_in_folder ON letter (folder_id) WHERE folder_id IS NOT NULL;
-- The purge looks for letters deleted long enough ago.
CREATE INDEX letter_in_trash ON letter (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

-- Documents the citizen uploaded to their own archive; bytes in the blob store.
CREATE TABLE upload (
    id          UUID PRIMARY KEY,
    owner_fnr   TEXT NOT NULL REFERENCES citizen (fnr),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes  BIGINT NOT NULL CHECK (size_bytes >= 0),
    uploaded_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX upload_by_owner ON upload (owner_fnr, uploaded_at DESC);
