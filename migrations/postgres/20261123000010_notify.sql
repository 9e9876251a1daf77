-- Keep in step with migrations/sqlite.
-- Notifications: durable notice jobs (one per letter, channel and repetition
-- day), the citizen's own notice preference, and the development sink.

-- One notice to send. The id is also the idempotency key handed to the
-- gateway, so a resend after a crash is recognised by the receiver.
CREATE TABLE notice_job (
    id            UUID PRIMARY KEY NOT NULL,
    letter_id     UUID NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    message_row   UUID NOT NULL REFERENCES dpi_message (id),
    recipient_fnr TEXT NOT NULL CHECK (length(recipient_fnr) = 11),
    channel       TEXT NOT NULL CHECK (channel IN ('epost', 'sms')),
    -- Days after the effective time (`repetisjoner`).
    day           INTEGER NOT NULL CHECK (day BETWEEN 0 AND 255),
    -- 'avsender' (the message's varsler) or 'innbygger' (the preference).
    ordered_by    TEXT NOT NULL CHECK (ordered_by IN ('avsender', 'innbygger')),
    text          TEXT NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    leased_until  TIMESTAMPTZ,
    -- Set before the notice is handed to a channel: a job taken over after a
    -- crash resends with the same key instead of sending a new notice.
    sending_since TIMESTAMPTZ,
    done_at       TIMESTAMPTZ,
    outcome       TEXT CHECK (outcome IN ('sent', 'skipped', 'failed')),
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    -- At most one notice per letter, channel and day.
    UNIQUE (letter_id, channel, day)
);

CREATE INDEX notice_job_due ON notice_job (due_at) WHERE done_at IS NULL;

-- The citizen's own choice: a notice for every new letter.
CREATE TABLE notice_preference (
    fnr        TEXT PRIMARY KEY NOT NULL CHECK (length(fnr) = 11),
    email      BOOLEAN NOT NULL,
    sms        BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- What the development sink channel "sent", for the operator page.
CREATE TABLE notice_sink (
    idempotency_key UUID PRIMARY KEY NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('epost', 'sms')),
    address         TEXT NOT NULL,
    text            TEXT NOT NULL,
    sent_at         TIMESTAMPTZ NOT NULL
);
