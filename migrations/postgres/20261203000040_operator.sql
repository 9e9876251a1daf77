-- Keep in step with migrations/sqlite.
-- Operators at the web console (the development sink's page). They sign in
-- with a single-use code that `postkasse operator login-link` prints; only
-- SHA-256 digests of codes and session cookies are stored.

-- A code printed by the command line, taken (deleted) when it is used.
CREATE TABLE operator_sign_in (
    code_hash  TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

-- A signed-in operator.
CREATE TABLE operator_session (
    id_hash    TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
