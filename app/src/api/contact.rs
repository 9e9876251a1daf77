//! The citizen's own entry in the contact and reservation register (KRR), as
//! the settings page sees it: wire types, the server functions, and (on the
//! server) the service trait they call.
//!
//! Every server function acts on the logged-in citizen only; there is no way
//! to name another person. Input arrives as the text the citizen typed and is
//! checked by the service; a refusal names the field it belongs to, so the
//! page can show it beside that field.

use crate::{domain::Language, error::AppError};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One contact channel (e-mail or mobile) on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub value: String,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    /// Updated or confirmed less than 18 months ago, so usable for notices.
    pub current: bool,
}

/// A new address waiting for the code that was sent to it: it enters the
/// register only when the code comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingProof {
    pub address: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub tries_left: u32,
}

/// What saving an address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressChange {
    /// A code went to the new address; the register is unchanged until it
    /// comes back.
    CodeSent,
    /// The address was removed from the register.
    Removed,
}

/// A mailbox provider the citizen may choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub org_nr: String,
    pub name: String,
    /// This Postkasse.
    pub own: bool,
}

/// What kind of change a line of the audit trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeWhat {
    Email,
    Mobile,
    Confirmed,
    Reservation,
    Mailbox,
    Language,
    Imported,
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeBy {
    Citizen,
    Import,
}

/// One line of the citizen's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub at: DateTime<Utc>,
    pub what: ChangeWhat,
    /// The new value as the citizen reads it (e.g. the address, "JA", the
    /// provider's name, the language's name); none when removed or confirmed.
    pub value: Option<String>,
    pub by: ChangeBy,
}

/// The citizen's own notices from Postkasse: one for every new letter, on
/// the channels chosen, to the addresses in the register.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeChoice {
    pub email: bool,
    pub sms: bool,
}

/// Everything the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSettings {
    pub email: Option<ChannelView>,
    pub mobile: Option<ChannelView>,
    /// A new e-mail address waiting for its code, while the code works.
    pub pending_email: Option<PendingProof>,
    pub pending_mobile: Option<PendingProof>,
    pub reserved: bool,
    pub reserved_at: Option<DateTime<Utc>>,
    /// Organisation number of the chosen provider, if any.
    pub provider: Option<String>,
    /// The citizen's `postkasseadresse` at that provider: what a sender
    /// addresses a letter to when it sends straight to the provider.
    pub mailbox_address: Option<String>,
    pub providers: Vec<ProviderChoice>,
    pub language: Option<Language>,
    /// KRR's `varslingsstatus` is KAN_VARSLES.
    pub can_be_notified: bool,
    /// Newest first.
    pub changes: Vec<ChangeView>,
    pub notices: NoticeChoice,
}

/// A change the citizen asks for, with their input as typed. (New
/// addresses take another path: [`ssr::ContactRegister::change_address`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeRequest {
    Confirm,
    Reserve,
    WithdrawReservation,
    /// The provider's organisation number.
    Mailbox(String),
    /// The language code.
    Language(String),
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the register service the server functions call.

    use super::*;
    use crate::api::session::{fail, require_signed_in, SignedIn};
    use crate::domain::NoticeChannel;
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait ContactRegister: Send + Sync + 'static {
        async fn settings(&self, viewer: &SignedIn) -> Result<ContactSettings, AppError>;
        /// Applies the change, or refuses it with [`AppError::Invalid`].
        async fn change(&self, viewer: &SignedIn, request: ChangeRequest) -> Result<(), AppError>;
        /// A new address as typed on `channel`: sends a code to prove it,
        /// or removes the channel's address when `typed` is empty.
        async fn change_address(
            &self,
            viewer: &SignedIn,
            channel: NoticeChannel,
            typed: String,
        ) -> Result<AddressChange, AppError>;
        /// The code the citizen typed for the new address on `channel`.
        async fn prove_address(
            &self,
            viewer: &SignedIn,
            channel: NoticeChannel,
            code: String,
        ) -> Result<(), AppError>;
        /// Stores the citizen's own notice choice.
        async fn choose_notices(
            &self,
            viewer: &SignedIn,
            choice: NoticeChoice,
        ) -> Result<(), AppError>;
    }

    pub type SharedContactRegister = Arc<dyn ContactRegister>;

    pub fn register() -> Result<SharedContactRegister, AppError> {
        use_context::<SharedContactRegister>().ok_or_else(|| fail(AppError::Internal))
    }

    /// The one path every change takes: the signed-in citizen, then the service.
    pub async fn change(request: ChangeRequest) -> Result<(), AppError> {
        let citizen = require_signed_in()?;
        register()?.change(&citizen, request).await.map_err(fail)
    }

    pub async fn change_address(
        channel: NoticeChannel,
        typed: String,
    ) -> Result<AddressChange, AppError> {
        let citizen = require_signed_in()?;
        register()?
            .change_address(&citizen, channel, typed)
            .await
            .map_err(fail)
    }

    pub async fn prove_address(channel: NoticeChannel, code: String) -> Result<(), AppError> {
        let citizen = require_signed_in()?;
        register()?
            .prove_address(&citizen, channel, code)
            .await
            .map_err(fail)
    }
}

#[server(endpoint = "load_contact_settings")]
pub async fn load_contact_settings() -> Result<ContactSettings, AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    ssr::register()?.settings(&citizen).await.map_err(fail)
}

/// A new e-mail address gets a code; an empty one removes the address.
#[server(endpoint = "change_email")]
pub async fn change_email(email: String) -> Result<AddressChange, AppError> {
    ssr::change_address(crate::domain::NoticeChannel::Email, email).await
}

#[server(endpoint = "change_mobile")]
pub async fn change_mobile(mobile: String) -> Result<AddressChange, AppError> {
    ssr::change_address(crate::domain::NoticeChannel::Sms, mobile).await
}

/// The code sent to the new e-mail address.
#[server(endpoint = "prove_email")]
pub async fn prove_email(code: String) -> Result<(), AppError> {
    ssr::prove_address(crate::domain::NoticeChannel::Email, code).await
}

#[server(endpoint = "prove_mobile")]
pub async fn prove_mobile(code: String) -> Result<(), AppError> {
    ssr::prove_address(crate::domain::NoticeChannel::Sms, code).await
}

#[server(endpoint = "confirm_contact")]
pub async fn confirm_contact() -> Result<(), AppError> {
    ssr::change(ChangeRequest::Confirm).await
}

#[server(endpoint = "reserve")]
pub async fn reserve() -> Result<(), AppError> {
    ssr::change(ChangeRequest::Reserve).await
}

#[server(endpoint = "withdraw_reservation")]
pub async fn withdraw_reservation() -> Result<(), AppError> {
    ssr::change(ChangeRequest::WithdrawReservation).await
}

#[server(endpoint = "choose_mailbox")]
pub async fn choose_mailbox(provider: String) -> Result<(), AppError> {
    ssr::change(ChangeRequest::Mailbox(provider)).await
}

#[server(endpoint = "choose_language")]
pub async fn choose_language(language: String) -> Result<(), AppError> {
    ssr::change(ChangeRequest::Language(language)).await
}

/// The notice checkboxes: a box that is ticked is sent, one that is not is absent.
#[server(endpoint = "choose_notices")]
pub async fn choose_notices(email: Option<String>, sms: Option<String>) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let choice = NoticeChoice {
        email: email.is_some(),
        sms: sms.is_some(),
    };
    ssr::register()?
        .choose_notices(&citizen, choice)
        .await
        .map_err(fail)
}
