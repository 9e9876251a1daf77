//! This Postkasse's receipts about stored messages: made from the message
//! ([`super::receipts`]), and pushed to the agency's callback when it has one.

use super::{
    receipts::{receipt, ReceiptContext, ReceiptKind},
    NewReceipt, Store, StoredMessage,
};
use crate::{
    clock::Clock,
    notify::{NoticeChannel, SenderReceipt, SenderReceipts},
    store::StorageError,
};
use anyhow::Context;
use app::domain::OrgNr;
use async_trait::async_trait;
use std::sync::Arc;
use uuid::Uuid;

pub struct ReceiptIssuer {
    messages: Arc<dyn Store>,
    agencies: Arc<dyn crate::agency::Store>,
    /// This Postkasse, the issuer.
    own: OrgNr,
    clock: Arc<dyn Clock>,
}

impl ReceiptIssuer {
    pub fn new(
        messages: Arc<dyn Store>,
        agencies: Arc<dyn crate::agency::Store>,
        own: OrgNr,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            messages,
            agencies,
            own,
            clock,
        }
    }

    /// A receipt from this Postkasse about a stored message, made now, and
    /// whether the agency wants its receipts pushed to a callback.
    pub async fn issue(
        &self,
        message: &StoredMessage,
        kind: ReceiptKind,
    ) -> Result<(NewReceipt, bool), StorageError> {
        let push = self
            .agencies
            .agency_by_org_nr(&message.agency)
            .await?
            .is_some_and(|agency| agency.pushes_receipts());
        let context = ReceiptContext::for_message(message, &self.own);
        Ok((receipt(&context, kind, self.clock.now()), push))
    }
}

#[async_trait]
impl SenderReceipts for ReceiptIssuer {
    async fn notice_failed(
        &self,
        message_row: Uuid,
        channel: NoticeChannel,
        description: &str,
    ) -> anyhow::Result<SenderReceipt> {
        let message = self
            .messages
            .message_by_row(message_row)
            .await?
            .context("a notice job without its message")?;
        let kind = ReceiptKind::NoticeFailed {
            channel,
            description: description.to_owned(),
        };
        let (receipt, push) = self.issue(&message, kind).await?;
        Ok(SenderReceipt {
            id: receipt.id,
            kind: receipt.kind,
            document: receipt.document,
            created_at: receipt.created_at,
            push,
        })
    }
}
