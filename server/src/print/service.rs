//! The print service as operators use it: the queue of letters to print,
//! and the postal addresses letters routed to paper are sent to.

use super::{store::CheckedLetter, verification::VerificationCode, PostalAddress, PrintJob, Store};
use crate::{clock::Clock, store::StorageError};
use app::domain::Fnr;
use std::sync::Arc;

pub struct PrintService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl PrintService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Letters in the print queue, oldest first; with `include_done`, the
    /// ones posted, failed or returned too.
    pub async fn queue(&self, include_done: bool) -> Result<Vec<PrintJob>, StorageError> {
        self.store.print_jobs(include_done).await
    }

    /// What the public check page says about the paper letter with this
    /// code: only letters Postkasse has batched for print are found.
    pub async fn check(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<CheckedLetter>, StorageError> {
        self.store.letter_by_check_code(code).await
    }

    /// Where the citizen's letters on paper go from now on.
    pub async fn set_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
    ) -> Result<(), StorageError> {
        self.store
            .set_postal_address(fnr, address, self.clock.now())
            .await
    }
}
