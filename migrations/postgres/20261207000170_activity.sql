-- Keep in step with migrations/sqlite.
-- "Min aktivitet": what was done with a citizen's mailbox and register
-- entry (server/src/activity). kind: innlogging (with level and a short
-- browser name), eksport, oppslag (an agency's lookup, with its name).
CREATE TABLE citizen_activity (
    id      UUID PRIMARY KEY NOT NULL,
    fnr     TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('innlogging', 'eksport', 'oppslag')),
    level   INTEGER CHECK (level IN (3, 4)),
    browser TEXT,
    agency  TEXT
);

CREATE INDEX citizen_activity_by_person ON citizen_activity (fnr, at);
