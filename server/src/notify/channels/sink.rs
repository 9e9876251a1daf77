//! The development sink: notices are stored instead of sent, and listed by
//! `postkasse notices`. A resend under the same key is stored once.

use super::{NoticeSender, OutgoingNotice, SendError};
use crate::{
    clock::Clock,
    notify::{SinkNotice, Store},
};
use async_trait::async_trait;
use std::sync::Arc;

pub struct SinkSender {
    pub notices: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl NoticeSender for SinkSender {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), SendError> {
        self.notices
            .record_sink_notice(&SinkNotice {
                key: notice.key,
                channel: notice.channel,
                address: notice.address.clone(),
                text: notice.text.clone(),
                sent_at: self.clock.now(),
            })
            .await
            .map(|_| ())
            .map_err(|error| SendError::Transient(format!("the sink could not store: {error}")))
    }
}
