-- Keep in step with migrations/postgres.
-- The broker: every message agencies send through the DPI API with the
-- routing decision, its transport statuses, the receipts queued for the
-- agency, the outbox of work done after the answer (forwarding, callbacks),
-- the print queue, and postal addresses for letters that go on paper.

-- A message as received. (agency_org_nr, message_id) is unique: a resend of
-- the same instanceIdentifier is recognised by content_sha256.
CREATE TABLE dpi_message (
    id                    BLOB PRIMARY KEY NOT NULL,
    agency_org_nr         TEXT NOT NULL CHECK (length(agency_org_nr) = 9),
    message_id            BLOB NOT NULL,
    conversation_id       BLOB NOT NULL,
    -- Lower-cased; '' when the agency named none.
    kanal                 TEXT NOT NULL,
    avsenderidentifikator TEXT NOT NULL,
    process               TEXT NOT NULL CHECK (process IN ('vedtak', 'info', 'utskrift')),
    content_sha256        TEXT NOT NULL CHECK (length(content_sha256) = 64),
    -- The business message (SBD JSON) without the embedded access token.
    document              TEXT NOT NULL,
    -- The unencrypted ASiC-E package in the blob store.
    package_sha256        TEXT NOT NULL CHECK (length(package_sha256) = 64),
    channel               TEXT NOT NULL CHECK (channel IN ('postkasse', 'leverandoer', 'utskrift', 'feil')),
    provider_org_nr       TEXT,
    reason                TEXT NOT NULL,
    letter_id             BLOB REFERENCES letter (id),
    received_at           TEXT NOT NULL,
    UNIQUE (agency_org_nr, message_id),
    CHECK ((channel = 'leverandoer') = (provider_org_nr IS NOT NULL)),
    CHECK ((channel = 'postkasse') = (letter_id IS NOT NULL))
) STRICT;

-- Transport statuses (OPPRETTET, SENDT, FEILET), oldest first.
CREATE TABLE dpi_status (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_row BLOB NOT NULL REFERENCES dpi_message (id),
    status      TEXT NOT NULL CHECK (status IN ('OPPRETTET', 'SENDT', 'FEILET')),
    beskrivelse TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT;

CREATE INDEX dpi_status_by_message ON dpi_status (message_row, id);

-- Receipts waiting for the agency to fetch and acknowledge them.
CREATE TABLE receipt (
    id                    BLOB PRIMARY KEY NOT NULL,
    message_row           BLOB NOT NULL REFERENCES dpi_message (id),
    agency_org_nr         TEXT NOT NULL,
    kanal                 TEXT NOT NULL,
    avsenderidentifikator TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    document              TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    read_at               TEXT
) STRICT;

CREATE INDEX receipt_queue ON receipt (agency_org_nr, kanal, created_at) WHERE read_at IS NULL;
CREATE INDEX receipt_by_message ON receipt (message_row);

-- Work that must happen after the answer, committed with the message that
-- causes it: forwarding to another provider, pushing a receipt to a callback.
CREATE TABLE outbox (
    id              BLOB PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('forward', 'callback')),
    message_row     BLOB NOT NULL REFERENCES dpi_message (id),
    receipt_id      BLOB REFERENCES receipt (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    -- A worker holds the job until then; after it, another may take it over.
    leased_until    TEXT,
    done_at         TEXT,
    outcome         TEXT CHECK (outcome IN ('delivered', 'failed')),
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((kind = 'callback') = (receipt_id IS NOT NULL))
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE done_at IS NULL;

-- Letters to print, with how (PrintOrder as JSON).
CREATE TABLE print_job (
    message_row BLOB PRIMARY KEY NOT NULL REFERENCES dpi_message (id),
    print_order TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    printed_at  TEXT
) STRICT;

-- Postal addresses for letters that go on paper: a stand-in for the national
-- population register (FREG), which Postkasse cannot reach.
CREATE TABLE postal_address (
    fnr        TEXT PRIMARY KEY NOT NULL CHECK (length(fnr) = 11),
    address    TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- What the mailbox needs from the business message.
ALTER TABLE letter ADD COLUMN effective_at TEXT;
ALTER TABLE letter ADD COLUMN opening_receipt INTEGER NOT NULL DEFAULT 0 CHECK (opening_receipt IN (0, 1));
ALTER TABLE letter ADD COLUMN language TEXT;
