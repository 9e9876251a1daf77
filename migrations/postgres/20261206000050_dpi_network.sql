-- Keep in step with migrations/sqlite.
-- Postkasse in the DPI network.

-- A provider finds the citizen a message is for by their mailbox address
-- (`postkasseadresse`), so an address names one person at one provider.
CREATE UNIQUE INDEX krr_person_by_mailbox_address
    ON krr_person (provider_org_nr, mailbox_address)
    WHERE mailbox_address IS NOT NULL;

-- A data processor (databehandler) an operator has allowed to send for an
-- agency, as Maskinporten's delegations allow a supplier to act for a
-- consumer.
CREATE TABLE processor_delegation (
    agency_org_nr    TEXT NOT NULL CHECK (length(agency_org_nr) = 9),
    processor_org_nr TEXT NOT NULL CHECK (length(processor_org_nr) = 9),
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency_org_nr, processor_org_nr)
);
