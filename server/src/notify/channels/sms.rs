//! SMS through a gateway. [`HttpSmsGateway`] is the generic one: it POSTs
//! `{"to", "text", "idempotency_key"}` as JSON to a configured URL, with the
//! key in an `Idempotency-Key` header too. There is no standard and real
//! gateways differ in field names, so this shape is Postkasse's own (see
//! docs/protocol.md#choices-where-the-sources-are-silent).

use super::{NoticeSender, OutgoingNotice, SendError};
use async_trait::async_trait;
use std::time::Duration;

pub struct HttpSmsGateway {
    pub url: url::Url,
    pub http: reqwest::Client,
    pub timeout: Duration,
}

#[async_trait]
impl NoticeSender for HttpSmsGateway {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), SendError> {
        let response = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header("Idempotency-Key", notice.key.to_string())
            .json(&serde_json::json!({
                "to": notice.address,
                "text": notice.text,
                "idempotency_key": notice.key,
            }))
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response)
                if response.status().is_server_error()
                    || response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || response.status() == reqwest::StatusCode::REQUEST_TIMEOUT =>
            {
                Err(SendError::Transient(format!(
                    "the SMS gateway answered {}",
                    response.status()
                )))
            }
            Ok(response) => Err(SendError::Permanent(format!(
                "the SMS gateway answered {}",
                response.status()
            ))),
            Err(error) => Err(SendError::Transient(format!(
                "the SMS gateway could not be reached: {}",
                error.without_url()
            ))),
        }
    }
}
