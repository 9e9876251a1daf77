-- Keep in step with migrations/postgres.
-- Print if unread (Postkasse's utskriftHvisUlest): a letter in a mailbox
-- here that is still unopened at its deadline is printed. state: pending
-- (until the deadline), printed (a print job was made), opened (in time),
-- failed (no postal address, or documents a print house refuses; the
-- sender got a feil receipt).
CREATE TABLE print_if_unread (
    message_row BLOB PRIMARY KEY NOT NULL REFERENCES dpi_message (id),
    letter_id   BLOB NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    deadline    TEXT NOT NULL,
    colour      TEXT NOT NULL CHECK (colour IN ('SORT_HVIT', 'FARGE')),
    post_class  TEXT NOT NULL CHECK (post_class IN ('A', 'B')),
    state       TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'printed', 'opened', 'failed')),
    settled_at  TEXT
) STRICT;

CREATE INDEX print_if_unread_due ON print_if_unread (deadline) WHERE state = 'pending';
