-- Keep in step with migrations/postgres.
-- The contact and reservation register (KRR): digital mailbox providers, one
-- entry per person, the trail of every change to an entry, and the access
-- tokens operators issue to agencies for looking people up.

-- A provider of digital mailboxes: this Postkasse (endpoint NULL) or another
-- one letters are forwarded to. The certificate is what senders encrypt to.
CREATE TABLE mailbox_provider (
    org_nr          TEXT PRIMARY KEY NOT NULL CHECK (length(org_nr) = 9),
    name            TEXT NOT NULL,
    endpoint        TEXT,
    certificate_der BLOB NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;

-- A person's register entry. Column names follow KRR's fields in English;
-- a channel's value and its times change together.
CREATE TABLE krr_person (
    fnr                    TEXT PRIMARY KEY NOT NULL CHECK (length(fnr) = 11),
    status                 TEXT NOT NULL CHECK (status IN ('AKTIV', 'SLETTET')),
    reserved               INTEGER NOT NULL CHECK (reserved IN (0, 1)),
    reserved_at            TEXT,
    reservation_updated_at TEXT,
    email                  TEXT,
    email_updated_at       TEXT,
    email_verified_at      TEXT,
    mobile                 TEXT,
    mobile_updated_at      TEXT,
    mobile_verified_at     TEXT,
    mailbox_address        TEXT,
    provider_org_nr        TEXT REFERENCES mailbox_provider (org_nr),
    language               TEXT CHECK (language IN ('nb', 'nn', 'en', 'se')),
    language_updated_at    TEXT,
    updated_at             TEXT NOT NULL,
    CHECK ((mailbox_address IS NULL) = (provider_org_nr IS NULL))
) STRICT;

-- Every change to an entry, shown to the citizen as their audit trail.
CREATE TABLE krr_change (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    fnr        TEXT NOT NULL REFERENCES krr_person (fnr),
    changed_at TEXT NOT NULL,
    field      TEXT NOT NULL,
    value      TEXT,
    source     TEXT NOT NULL
) STRICT;

CREATE INDEX krr_change_by_person ON krr_change (fnr, changed_at);

-- A bearer token an operator issued to an agency. Only its SHA-256 is kept.
CREATE TABLE access_token (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    client_name TEXT NOT NULL,
    org_nr      TEXT NOT NULL CHECK (length(org_nr) = 9),
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;
