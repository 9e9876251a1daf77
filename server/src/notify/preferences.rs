//! The citizen's own choice of notices, as the register's settings page
//! shows and changes it beside the contact details (`krr::NoticeChoices`).

use super::{NoticePreference, Store};
use crate::{krr::NoticeChoices, store::StorageError};
use app::{api::contact::NoticeChoice, domain::Fnr};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct Preferences {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl NoticeChoices for Preferences {
    async fn notice_choice(&self, fnr: &Fnr) -> Result<NoticeChoice, StorageError> {
        let preference = self.store.notice_preference(fnr).await?;
        Ok(NoticeChoice {
            email: preference.email,
            sms: preference.sms,
        })
    }

    async fn choose_notices(
        &self,
        fnr: &Fnr,
        choice: NoticeChoice,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let preference = NoticePreference {
            email: choice.email,
            sms: choice.sms,
        };
        self.store.set_notice_preference(fnr, preference, at).await
    }
}
