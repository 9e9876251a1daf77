-- Keep in step with migrations/sqlite.
-- Who signed a letter's package (its XAdES signature, checked when the
-- letter arrived), for the letter page: the organisation number and name of
-- the signing certificate, and the signing time it claims.
ALTER TABLE letter ADD COLUMN signer_org_nr TEXT;
ALTER TABLE letter ADD COLUMN signer_name TEXT;
ALTER TABLE letter ADD COLUMN signed_at TIMESTAMPTZ;
