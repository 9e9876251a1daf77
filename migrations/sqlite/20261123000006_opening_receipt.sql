-- Keep in step with migrations/postgres.
-- When the citizen agreed to the sender's opening receipt (aapningskvittering)
-- and opened the letter; set once, so the receipt is queued once.
ALTER TABLE letter ADD COLUMN opening_receipt_sent_at TEXT;
