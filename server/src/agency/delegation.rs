//! On behalf of (på vegne av): a data processor (databehandler) that sends
//! digital post for an agency. In DPI the processor is the SBD header's
//! sender and signs the message, while the body's `avsender` is the agency
//! responsible; Maskinporten lets a supplier act for a consumer only after
//! the consumer has delegated the right to it. Here an operator records
//! that delegation, and the broker refuses a processor's message without one.

use super::Store;
use crate::store::StorageError;
use app::domain::OrgNr;
use chrono::{DateTime, Utc};

/// A processor allowed to send for an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub agency: OrgNr,
    pub processor: OrgNr,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum DelegationError {
    #[error("an organisation sends for itself without a delegation")]
    ToItself,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Lets `processor` send for `agency`; says whether it could not already.
pub async fn delegate(
    store: &dyn Store,
    agency: OrgNr,
    processor: OrgNr,
    at: DateTime<Utc>,
) -> Result<bool, DelegationError> {
    if agency == processor {
        return Err(DelegationError::ToItself);
    }
    Ok(store
        .add_delegation(&Delegation {
            agency,
            processor,
            created_at: at,
        })
        .await?)
}
