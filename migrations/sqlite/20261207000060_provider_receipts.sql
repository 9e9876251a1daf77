-- Keep in step with migrations/postgres.
-- Receipts between mailbox providers.

-- A provider that got a forwarded letter sends its receipts back; they are
-- found by the conversation and the provider the letter went to.
CREATE INDEX dpi_message_forwarded
    ON dpi_message (provider_org_nr, conversation_id)
    WHERE provider_org_nr IS NOT NULL;

-- A letter is delivered once and opened once, whoever reports it: this
-- Postkasse when the receiving provider accepts a forwarded letter, or that
-- provider in its own receipt, whichever comes first.
CREATE UNIQUE INDEX receipt_once_per_message
    ON receipt (message_row, kind)
    WHERE kind IN ('leveringskvittering', 'aapningskvittering');
