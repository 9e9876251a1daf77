-- Keep in step with migrations/sqlite.
-- Who looked at a letter for paper: operators download batches and letters
-- from the console, and each download is recorded for every letter in it.
CREATE TABLE print_access (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_row UUID NOT NULL REFERENCES dpi_message (id),
    -- 'letter' (the letter's PDF) or 'batch' (the whole batch).
    what        TEXT NOT NULL CHECK (what IN ('letter', 'batch')),
    at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX print_access_by_letter ON print_access (message_row, id);
