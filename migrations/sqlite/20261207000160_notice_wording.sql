-- Keep in step with migrations/postgres.
-- What a notice says, by meaning (notify::Wording as JSON), so the worker
-- words it in the citizen's language when it sends. text keeps the bokmål
-- wording for whoever reads the table; jobs from before have no wording and
-- go out as their text was written.
ALTER TABLE notice_job ADD COLUMN wording TEXT;
