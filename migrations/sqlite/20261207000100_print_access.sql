-- Keep in step with migrations/postgres.
-- Who looked at a letter for paper: operators download batches and letters
-- from the console, and each download is recorded for every letter in it.
CREATE TABLE print_access (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_row BLOB NOT NULL REFERENCES dpi_message (id),
    -- 'letter' (the letter's PDF) or 'batch' (the whole batch).
    what        TEXT NOT NULL CHECK (what IN ('letter', 'batch')),
    at          TEXT NOT NULL
) STRICT;

CREATE INDEX print_access_by_letter ON print_access (message_row, id);
