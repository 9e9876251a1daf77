-- Keep in step with migrations/postgres.
-- Powers of attorney (fullmakt, server/src/fullmakt): a citizen (the
-- principal) lets another person (the delegate) read their letters, and
-- perhaps reply, from all senders or from those named in fullmakt_sender,
-- until ends_at. Either side can end it (ended_at, ended_by).
CREATE TABLE fullmakt (
    id             BLOB PRIMARY KEY NOT NULL,
    principal_fnr  TEXT NOT NULL,
    -- The principal's name as the delegate is shown it; none when the
    -- login gave none (then the birth date is shown).
    principal_name TEXT,
    delegate_fnr   TEXT NOT NULL,
    -- As the principal wrote it: the name the principal's logs show.
    delegate_name  TEXT NOT NULL,
    may_reply      INTEGER NOT NULL CHECK (may_reply IN (0, 1)),
    all_senders    INTEGER NOT NULL CHECK (all_senders IN (0, 1)),
    created_at     TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    ended_at       TEXT,
    ended_by       TEXT CHECK (ended_by IN ('fullmaktsgiver', 'fullmektig')),
    CHECK (principal_fnr <> delegate_fnr)
) STRICT;

CREATE INDEX fullmakt_by_principal ON fullmakt (principal_fnr, created_at);
CREATE INDEX fullmakt_by_delegate ON fullmakt (delegate_fnr, created_at);

CREATE TABLE fullmakt_sender (
    fullmakt_id BLOB NOT NULL REFERENCES fullmakt (id) ON DELETE CASCADE,
    org_nr      TEXT NOT NULL,
    PRIMARY KEY (fullmakt_id, org_nr)
) STRICT;

-- A delegate's session reads the principal's mailbox while it names the
-- power; the power is checked again on every request.
ALTER TABLE citizen_session ADD COLUMN acting_for BLOB REFERENCES fullmakt (id) ON DELETE SET NULL;

-- A letter's access log names the delegate who read it, and who answered
-- or wrote to the sender under a power that lets them reply.
ALTER TABLE letter_access ADD COLUMN delegate_name TEXT;
ALTER TABLE reply ADD COLUMN sent_by_delegate TEXT;
ALTER TABLE citizen_message ADD COLUMN sent_by_delegate TEXT;

-- "Min aktivitet" lists operators' downloads of a citizen's letter for
-- paper, and powers given, used and ended (by the principal
-- or by the delegate), naming the delegate in `person`. SQLite cannot change a CHECK in place: the table is made again.
CREATE TABLE citizen_activity_new (
    id      BLOB PRIMARY KEY NOT NULL,
    fnr     TEXT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('innlogging', 'eksport', 'oppslag',
                'fullmakt_gitt', 'fullmakt_brukt', 'fullmakt_avsluttet',
                'fullmakt_avsluttet_av_fullmektig',
                'utskrift_lastet_ned', 'utskriftsbunke_lastet_ned')),
    level   INTEGER CHECK (level IN (3, 4)),
    browser TEXT,
    agency  TEXT,
    person  TEXT
) STRICT;

INSERT INTO citizen_activity_new (id, fnr, at, kind, level, browser, agency)
SELECT id, fnr, at, kind, level, browser, agency FROM citizen_activity;

DROP TABLE citizen_activity;
ALTER TABLE citizen_activity_new RENAME TO citizen_activity;

CREATE INDEX citizen_activity_by_person ON citizen_activity (fnr, at);

-- The citizen a print job is for, when the sender named one (a letter routed
-- to paper, or unread at its deadline): operators' downloads of it are
-- listed in their "Min aktivitet" (kinds utskrift_lastet_ned and
-- utskriftsbunke_lastet_ned above).
ALTER TABLE print_job ADD COLUMN recipient_fnr TEXT;
