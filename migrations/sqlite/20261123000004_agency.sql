-- Keep in step with migrations/postgres.
-- Agencies as Maskinporten-style clients: who they are, the key their grants
-- are signed with, and the grant ids (jti) already spent.

-- A registered agency. It proves itself by signing grants (JWTs) with the
-- private half of public_key_pem (an SPKI "PUBLIC KEY" PEM, RSA ≥ 2048 bits).
-- avsenderidentifikatorer is a JSON array of the sender ids it may use. The
-- callback secret signs (HMAC) what Postkasse posts to callback_url; it must
-- be kept readable, not hashed, for that.
CREATE TABLE agency (
    org_nr                  TEXT PRIMARY KEY NOT NULL CHECK (length(org_nr) = 9),
    name                    TEXT NOT NULL,
    client_id               TEXT NOT NULL UNIQUE,
    public_key_pem          TEXT NOT NULL,
    avsenderidentifikatorer TEXT NOT NULL CHECK (json_type(avsenderidentifikatorer) = 'array'),
    callback_url            TEXT,
    callback_secret         TEXT,
    created_at              TEXT NOT NULL,
    CHECK ((callback_url IS NULL) = (callback_secret IS NULL))
) STRICT;

-- Grant ids seen, so each grant is exchanged once. A row is needed only
-- until the grant expires; expired rows are deleted as new grants arrive.
CREATE TABLE grant_jti (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT;

CREATE INDEX grant_jti_by_expiry ON grant_jti (expires_at);
