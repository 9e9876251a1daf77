//! The print service as operators use it: the queue of letters to print,
//! and the postal addresses letters routed to paper are sent to.

use super::{PostalAddress, PrintJob, Store};
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

    /// Letters waiting to be printed, oldest first; with `include_printed`,
    /// the ones already posted too.
    pub async fn queue(&self, include_printed: bool) -> Result<Vec<PrintJob>, StorageError> {
        self.store.print_jobs(include_printed).await
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
