-- Keep in step with migrations/postgres.
-- Letters a citizen moves to their new mailbox provider (DPI's flyttet).

-- One row per letter and provider, so a letter goes to a provider once
-- however often the citizen asks. The row's id is the flyttet message's
-- instanceIdentifier: sent again after a crash, it is the same message, and
-- the receiving provider knows it. Leased like the outbox: a worker killed
-- mid-send leaves its lease to expire, and the move is taken again.
CREATE TABLE letter_move (
    id              BLOB PRIMARY KEY NOT NULL,
    letter_id       BLOB NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr       TEXT NOT NULL,
    provider_org_nr TEXT NOT NULL CHECK (length(provider_org_nr) = 9),
    mailbox_address TEXT NOT NULL,
    requested_at    TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    leased_until    TEXT,
    moved_at        TEXT,
    failed_at       TEXT,
    last_error      TEXT,
    UNIQUE (letter_id, provider_org_nr)
) STRICT;

CREATE INDEX letter_move_due ON letter_move (next_attempt_at)
    WHERE moved_at IS NULL AND failed_at IS NULL;
CREATE INDEX letter_move_by_owner ON letter_move (owner_fnr, provider_org_nr);
