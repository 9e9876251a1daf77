-- Rate limits every node shares: one row per bucket (a limit and whom it
-- counts, named by a digest), holding when the bucket is full again, in
-- microseconds since the epoch (GCRA's theoretical arrival time).
-- UNLOGGED: a bucket is worth no WAL write or fsync; after a crash the table
-- is empty, which only means every bucket starts full.
CREATE UNLOGGED TABLE rate_limit (
    bucket TEXT PRIMARY KEY NOT NULL,
    full_at_micros BIGINT NOT NULL
);
