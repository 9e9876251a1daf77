-- Logins and sessions. Nothing here travels through the browser except a
-- random cookie value, and only its SHA-256 is stored.

-- A login on its way: written when the browser is sent to the provider, taken
-- (deleted) once when it comes back. Holds the PKCE verifier and nonce, which
-- must never leave the server, and binds the login to the browser that began it.
CREATE TABLE login_attempt (
    state           TEXT PRIMARY KEY NOT NULL,
    browser_binding TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    requested_level INTEGER NOT NULL CHECK (requested_level IN (3, 4)),
    return_to       TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;

-- A logged-in citizen.
CREATE TABLE citizen_session (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    fnr          TEXT NOT NULL REFERENCES citizen (fnr),
    level        INTEGER NOT NULL CHECK (level IN (3, 4)),
    -- The provider's session id, for front-channel logout.
    provider_sid TEXT,
    -- Sent back as id_token_hint when the citizen logs out.
    id_token     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT;

CREATE INDEX citizen_session_by_sid ON citizen_session (provider_sid);
