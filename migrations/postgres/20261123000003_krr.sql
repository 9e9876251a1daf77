-- Keep in step with migrations/sqlite.
-- The contact and reservation register (KRR): digital mailbox providers, one
-- entry per person, the trail of every change to an entry, and the access
-- tokens operators issue to agencies for looking people up.

-- A provider of digital mailboxes: this Postkasse (endpoint NULL) or another
-- one letters are forwarded to. The certificate is what senders encrypt to.
CREATE TABLE mailbox_provider (
    org_nr          TEXT PRIMARY KEY NOT NULL CHECK (length(org_nr) = 9),
    name            TEXT NOT NULL,
    endpoint        TEXT,
    certificate_der BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

-- A person's register entry. Column names follow KRR's fields in English;
-- a channel's value and its times change together.
CREATE TABLE krr_person (
    fnr                    TEXT PRIMARY KEY NOT NULL CHECK (length(fnr) = 11),
    status                 TEXT NOT NULL CHECK (status IN ('AKTIV', 'SLETTET')),
    reserved               BOOLEAN NOT NULL,
    reserved_at            TIMESTAMPTZ,
    reservation_updated_at TIMESTAMPTZ,
    email                  TEXT,
    email_updated_at       TIMESTAMPTZ,
    email_verified_at      TIMESTAMPTZ,
    mobile                 TEXT,
    mobile_updated_at      TIMESTAMPTZ,
    mobile_verified_at     TIMESTAMPTZ,
    mailbox_address        TEXT,
    provider_org_nr        TEXT REFERENCES mailbox_provider (org_nr),
    language               TEXT CHECK (language IN ('nb', 'nn', 'en', 'se')),
    language_updated_at    TIMESTAMPTZ,
    updated_at             TIMESTAMPTZ NOT NULL,
    CHECK ((mailbox_address IS NULL) = (provider_org_nr IS NULL))
);

-- Every change to an entry, shown to the citizen as their audit trail.
CREATE TABLE krr_change (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fnr        TEXT NOT NULL REFERENCES krr_person (fnr),
    changed_at TIMESTAMPTZ NOT NULL,
    field      TEXT NOT NULL,
    value      TEXT,
    source     TEXT NOT NULL
);

CREATE INDEX krr_change_by_person ON krr_change (fnr, changed_at);

-- A bearer token an operator issued to an agency. Only its SHA-256 is kept.
CREATE TABLE access_token (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    client_name TEXT NOT NULL,
    org_nr      TEXT NOT NULL CHECK (length(org_nr) = 9),
    scopes      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
