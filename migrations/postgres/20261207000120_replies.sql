-- Keep in step with migrations/sqlite.
-- Replies (docs/replies.md). A letter's link out (DPI's lenke extension)
-- is kept on the letter.
ALTER TABLE letter ADD COLUMN link_url TEXT;
ALTER TABLE letter ADD COLUMN link_description TEXT;
ALTER TABLE letter ADD COLUMN link_button_text TEXT;
ALTER TABLE letter ADD COLUMN link_deadline TIMESTAMPTZ;

-- The reply form a letter carries (Postkasse's svarskjema extension), as
-- app::domain::ReplyForm in JSON. not_answered_at: when the agency was
-- told that the deadline passed without an answer.
CREATE TABLE reply_form (
    letter_id       UUID PRIMARY KEY NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    form            TEXT NOT NULL,
    deadline        TIMESTAMPTZ NOT NULL,
    not_answered_at TIMESTAMPTZ
);

CREATE INDEX reply_form_unanswered ON reply_form (deadline) WHERE not_answered_at IS NULL;

-- The citizen's answers to a letter's form: a draft (sent_at NULL) until
-- they send it after the review. answers: question id to answer; problems:
-- question id to what is wrong, both JSON. A letter's form is sent once.
-- receipt_upload_id: the sealed PDF receipt in the citizen's documents.
CREATE TABLE reply (
    id         UUID PRIMARY KEY NOT NULL,
    letter_id  UUID NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr  TEXT NOT NULL REFERENCES citizen (fnr),
    answers    TEXT NOT NULL,
    problems   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ,
    sent_level INTEGER CHECK (sent_level IN (3, 4)),
    receipt_upload_id UUID REFERENCES upload (id)
);

CREATE INDEX reply_by_letter ON reply (owner_fnr, letter_id);
CREATE UNIQUE INDEX reply_sent_once ON reply (letter_id) WHERE sent_at IS NOT NULL;

-- What the citizen writes to a letter's sender, where the sender's form
-- allows it (fritekst). id: the key the message form posts with, so a
-- message posted twice is kept once. attachment: app::domain::AnswerFile
-- as JSON.
CREATE TABLE citizen_message (
    id         UUID PRIMARY KEY NOT NULL,
    letter_id  UUID NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    owner_fnr  TEXT NOT NULL REFERENCES citizen (fnr),
    text       TEXT NOT NULL,
    attachment TEXT,
    sent_at    TIMESTAMPTZ NOT NULL,
    sent_level INTEGER NOT NULL CHECK (sent_level IN (3, 4))
);

CREATE INDEX citizen_message_by_letter ON citizen_message (owner_fnr, letter_id);

-- A notice is about the letter (skipped once it is opened) or, for the
-- reminders before a reply form's deadline, about the form (skipped once it
-- is answered).
ALTER TABLE notice_job ADD COLUMN purpose TEXT NOT NULL DEFAULT 'brev'
    CHECK (purpose IN ('brev', 'svar'));
