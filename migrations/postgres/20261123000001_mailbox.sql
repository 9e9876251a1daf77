-- The first mailbox schema: citizens, the senders of their letters, the letters
-- and the documents inside them. Document bytes are not here: they live in the
-- content-addressed blob store, named by their SHA-256 digest.
-- Keep in step with migrations/sqlite: the same tests run against both.

-- A citizen with a mailbox here. Keyed by national id because every way in
-- (login, KRR, ingest) starts from it.
CREATE TABLE citizen (
    fnr          TEXT PRIMARY KEY CHECK (length(fnr) = 11),
    display_name TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);

-- A public body that has sent letters (avsender).
CREATE TABLE sender (
    org_nr TEXT PRIMARY KEY CHECK (length(org_nr) = 9),
    name   TEXT NOT NULL
);

CREATE TABLE letter (
    id                 UUID PRIMARY KEY,
    -- The sender's instanceIdentifier: unique per sender, so a resend is caught.
    message_id         UUID NOT NULL,
    conversation_id    UUID NOT NULL,
    sender_org_nr      TEXT NOT NULL REFERENCES sender (org_nr),
    recipient_fnr      TEXT NOT NULL REFERENCES citizen (fnr),
    nonsensitive_title TEXT NOT NULL,
    title              TEXT NOT NULL,
    security_level     INTEGER NOT NULL CHECK (security_level IN (3, 4)),
    received_at        TIMESTAMPTZ NOT NULL,
    read_at            TIMESTAMPTZ,
    UNIQUE (sender_org_nr, message_id)
);

-- The inbox query: one citizen's letters, newest first.
CREATE INDEX letter_by_recipient ON letter (recipient_fnr, received_at DESC);

CREATE TABLE document (
    letter_id  UUID NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    -- 0 is the main document; attachments follow in the order the mailbox shows them.
    position   INTEGER NOT NULL CHECK (position >= 0),
    role       TEXT NOT NULL CHECK (role IN ('main', 'attachment')),
    title      TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    media_type TEXT NOT NULL,
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    PRIMARY KEY (letter_id, position)
);

-- Exactly one main document per letter.
CREATE UNIQUE INDEX document_one_main ON document (letter_id) WHERE role = 'main';
