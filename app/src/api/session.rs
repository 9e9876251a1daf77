//! Server-only: who is making the request, as server functions read it from
//! the request context, and how their refusals set the response status.
//!
//! The server checks the session cookies and puts a [`SignedIn`] citizen or
//! an [`OperatorSignedIn`] operator in the request's extensions; the two
//! kinds of session are kept apart, so neither gives access to the other's
//! server functions.
//!
//! A citizen who switched to another's mailbox under a power of attorney
//! is put there as [`ActingFor`] instead, never as [`SignedIn`]: everything
//! that asks for [`require_signed_in`] refuses them, and only what asks for
//! a reader ([`require_reader`], [`require_replier`]) lets them in. What a
//! server function does not open to delegates stays closed to them.

use crate::{
    domain::{Fnr, FullmaktId, SecurityLevel},
    error::AppError,
};
use leptos::prelude::*;

/// The logged-in citizen. The server puts it in the request's extensions
/// after checking the session cookie; it never crosses the wire.
///
/// `fnr` is whose mailbox the request reads: the citizen's own, or under a
/// power of attorney ([`ActingFor`]) the principal's, with `on_behalf`
/// saying who reads it and how far the power goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub fnr: Fnr,
    /// The level of the login of the person at the keyboard.
    pub level: SecurityLevel,
    /// The mailbox owner's name, when their login gave one.
    pub display_name: Option<String>,
    pub on_behalf: Option<OnBehalf>,
}

impl SignedIn {
    /// The person at the keyboard as themselves: for a delegate's request,
    /// the delegate (at their login's level), not the mailbox's owner.
    pub fn as_themselves(&self) -> SignedIn {
        match &self.on_behalf {
            Some(power) => SignedIn {
                fnr: power.delegate.clone(),
                level: self.level,
                display_name: None,
                on_behalf: None,
            },
            None => self.clone(),
        }
    }

    /// The delegate's name, when a delegate makes the request: what the
    /// owner's logs say of it.
    pub fn delegate_name(&self) -> Option<&str> {
        self.on_behalf
            .as_ref()
            .map(|power| power.delegate_name.as_str())
    }
}

/// Who reads a mailbox for its owner, under which power of attorney.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBehalf {
    pub fullmakt: FullmaktId,
    pub delegate: Fnr,
    /// As the principal wrote it when giving the power.
    pub delegate_name: String,
    pub may_reply: bool,
    /// False when the power names the senders whose letters it reaches.
    pub all_senders: bool,
}

/// A request by a delegate in the principal's mailbox. Its [`SignedIn`]
/// names the principal and carries [`OnBehalf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingFor(pub SignedIn);

fn extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<T>()
        .cloned()
}

/// The citizen making this request for themselves, if logged in.
pub fn signed_in() -> Option<SignedIn> {
    extension::<SignedIn>()
}

/// The delegate making this request in a principal's mailbox, if any.
pub fn acting_for() -> Option<SignedIn> {
    extension::<ActingFor>().map(|ActingFor(signed_in)| signed_in)
}

/// The citizen making this request for themselves. A delegate in another's
/// mailbox is refused (403), anyone else gets 401.
pub fn require_signed_in() -> Result<SignedIn, AppError> {
    match (signed_in(), acting_for()) {
        (Some(citizen), _) => Ok(citizen),
        (None, Some(_)) => Err(fail(AppError::ActingForAnother)),
        (None, None) => Err(fail(AppError::Unauthorized)),
    }
}

/// Whoever may read this mailbox: its owner, or a delegate with a power in
/// force (whose scope the queries apply).
pub fn require_reader() -> Result<SignedIn, AppError> {
    signed_in()
        .or_else(acting_for)
        .ok_or_else(|| fail(AppError::Unauthorized))
}

/// Whoever may answer letters in this mailbox: its owner, or a delegate
/// whose power lets them reply.
pub fn require_replier() -> Result<SignedIn, AppError> {
    let reader = require_reader()?;
    match &reader.on_behalf {
        Some(power) if !power.may_reply => Err(fail(AppError::ActingForAnother)),
        _ => Ok(reader),
    }
}

/// A live operator session. The server puts it in the request's
/// extensions after checking the operator cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorSignedIn;

/// The operator making this request; an error with status 401 otherwise.
pub fn require_operator() -> Result<OperatorSignedIn, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<OperatorSignedIn>().copied())
        .ok_or_else(|| fail(AppError::Unauthorized))
}

pub use crate::error::fail;
