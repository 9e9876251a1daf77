//! A person's entry in the register, as Postkasse stores it.

use super::{
    contact::{EmailAddress, MobileNumber},
    rules::{notification_status, ChannelTimes, NotificationFacts, NotificationStatus},
};
pub use app::api::contact::{ChangeBy, ChangeWhat};
use app::domain::{Fnr, Language, OrgNr};
use chrono::{DateTime, Utc};

/// KRR's `status` for people it knows. (`IKKE_REGISTRERT` is the answer for
/// people it does not, and is never stored.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonStatus {
    Active,
    Deleted,
}

impl PersonStatus {
    pub fn code(self) -> &'static str {
        match self {
            PersonStatus::Active => "AKTIV",
            PersonStatus::Deleted => "SLETTET",
        }
    }

    pub fn parse(code: &str) -> Option<PersonStatus> {
        match code.trim().to_ascii_uppercase().as_str() {
            "AKTIV" => Some(PersonStatus::Active),
            "SLETTET" => Some(PersonStatus::Deleted),
            _ => None,
        }
    }
}

/// One way to reach a person, with when it was last set and last confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel<T> {
    pub value: T,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

impl<T> Channel<T> {
    pub fn times(&self) -> ChannelTimes {
        ChannelTimes {
            updated: Some(self.updated_at),
            verified: self.verified_at,
        }
    }
}

/// The digital mailbox a person chose (`digital_post`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalMailbox {
    /// `postkasseadresse`, the person's address at the provider.
    pub address: String,
    /// `postkasseleverandoeradresse`, the provider's organisation number.
    pub provider: OrgNr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub fnr: Fnr,
    pub status: PersonStatus,
    pub reserved: bool,
    /// `reservasjonstidspunkt`: when the current reservation was made.
    pub reserved_at: Option<DateTime<Utc>>,
    /// `reservasjon_oppdatert`: when the reservation was last changed either way.
    pub reservation_updated_at: Option<DateTime<Utc>>,
    pub email: Option<Channel<EmailAddress>>,
    pub mobile: Option<Channel<MobileNumber>>,
    pub mailbox: Option<DigitalMailbox>,
    pub language: Option<Language>,
    pub language_updated_at: Option<DateTime<Utc>>,
}

impl Person {
    /// An active entry with nothing in it yet, as for a citizen who logs in
    /// before any register data has arrived for them.
    pub fn blank(fnr: Fnr) -> Person {
        Person {
            fnr,
            status: PersonStatus::Active,
            reserved: false,
            reserved_at: None,
            reservation_updated_at: None,
            email: None,
            mobile: None,
            mailbox: None,
            language: None,
            language_updated_at: None,
        }
    }

    pub fn notification_status(&self, now: DateTime<Utc>) -> NotificationStatus {
        notification_status(
            &NotificationFacts {
                active: self.status == PersonStatus::Active,
                reserved: self.reserved,
                email: self.email.as_ref().map(Channel::times),
                mobile: self.mobile.as_ref().map(Channel::times),
            },
            now,
        )
    }
}

/// A change a citizen makes to their own entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfServiceChange {
    Email(Option<EmailAddress>),
    Mobile(Option<MobileNumber>),
    /// The citizen confirms that the contact details on record are right.
    Confirm,
    Reserve,
    WithdrawReservation,
    Mailbox(DigitalMailbox),
    Language(Language),
}

/// Stored codes for what changed: KRR's field names where there is one.
pub fn change_code(what: ChangeWhat) -> &'static str {
    match what {
        ChangeWhat::Email => "epostadresse",
        ChangeWhat::Mobile => "mobiltelefonnummer",
        ChangeWhat::Confirmed => "bekreftet",
        ChangeWhat::Reservation => "reservasjon",
        ChangeWhat::Mailbox => "digital_post",
        ChangeWhat::Language => "spraak",
        ChangeWhat::Imported => "import",
    }
}

pub fn parse_change_code(code: &str) -> Option<ChangeWhat> {
    [
        ChangeWhat::Email,
        ChangeWhat::Mobile,
        ChangeWhat::Confirmed,
        ChangeWhat::Reservation,
        ChangeWhat::Mailbox,
        ChangeWhat::Language,
        ChangeWhat::Imported,
    ]
    .into_iter()
    .find(|what| change_code(*what) == code)
}

/// Stored codes for who made a change.
pub fn source_code(by: ChangeBy) -> &'static str {
    match by {
        ChangeBy::Citizen => "innbygger",
        ChangeBy::Import => "import",
    }
}

pub fn parse_source_code(code: &str) -> Option<ChangeBy> {
    [ChangeBy::Citizen, ChangeBy::Import]
        .into_iter()
        .find(|by| source_code(*by) == code)
}

/// One line of a person's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedChange {
    pub at: DateTime<Utc>,
    pub what: ChangeWhat,
    /// The new value as the citizen would read it, where there is one.
    pub value: Option<String>,
    pub by: ChangeBy,
}

impl SelfServiceChange {
    /// How the change appears in the audit trail.
    pub fn describe(&self) -> (ChangeWhat, Option<String>) {
        match self {
            SelfServiceChange::Email(email) => (
                ChangeWhat::Email,
                email.as_ref().map(|e| e.as_str().to_owned()),
            ),
            SelfServiceChange::Mobile(mobile) => (
                ChangeWhat::Mobile,
                mobile.as_ref().map(|m| m.as_str().to_owned()),
            ),
            SelfServiceChange::Confirm => (ChangeWhat::Confirmed, None),
            SelfServiceChange::Reserve => (ChangeWhat::Reservation, Some("JA".to_owned())),
            SelfServiceChange::WithdrawReservation => {
                (ChangeWhat::Reservation, Some("NEI".to_owned()))
            }
            SelfServiceChange::Mailbox(mailbox) => (
                ChangeWhat::Mailbox,
                Some(mailbox.provider.as_str().to_owned()),
            ),
            SelfServiceChange::Language(language) => {
                (ChangeWhat::Language, Some(language.code().to_owned()))
            }
        }
    }
}

/// A provider of digital mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxProvider {
    pub org_nr: OrgNr,
    pub name: String,
    /// Where letters for its citizens are delivered; `None` for this Postkasse.
    pub endpoint: Option<String>,
    /// DER-encoded X.509 certificate senders encrypt to.
    pub certificate_der: Vec<u8>,
}
