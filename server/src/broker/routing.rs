//! Where a letter goes: this mailbox, another provider, the print queue, or
//! nowhere, with the reason in words an operator (and the sender's `feil`
//! receipt) can use.
//!
//! The rules are eFormidling's service-registry rules for DPI
//! (`DpiMessageRouter`; docs/protocol.md#routing): a decision (*vedtak*) goes
//! on paper to a citizen who has reserved against digital post or cannot be
//! notified; otherwise it goes to the chosen mailbox. Information letters
//! ignore reservation and notifiability. Print needs a postal address; without
//! one the citizen cannot be reached at all.
//!
//! eFormidling offers Altinn digital post (DPV) where these rules find no
//! mailbox. Postkasse has no DPV, so print is offered there instead (an
//! interpretation; see docs/protocol.md#choices-where-the-sources-are-silent).

use crate::{
    krr::{
        person::{Person, PersonStatus},
        rules::NotificationStatus,
    },
    print::PostalAddress,
};
use app::domain::OrgNr;
use chrono::{DateTime, Utc};

/// Which rules apply: the business process of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Decisions and other letters eForvaltningsforskriften §8 obliges the
    /// sender to notify about.
    Decision,
    /// Information letters.
    Information,
    /// The sender asked for paper (`utskrift`): no register lookup.
    Print,
}

impl Process {
    pub fn code(self) -> &'static str {
        match self {
            Process::Decision => "vedtak",
            Process::Information => "info",
            Process::Print => "utskrift",
        }
    }

    pub fn parse(code: &str) -> Option<Process> {
        [Process::Decision, Process::Information, Process::Print]
            .into_iter()
            .find(|process| process.code() == code)
    }
}

/// What the register and the address source know about the recipient.
#[derive(Debug, Clone)]
pub struct RecipientFacts<'a> {
    /// `None`: the register does not know the person (`IKKE_REGISTRERT`).
    pub person: Option<&'a Person>,
    /// Whether the chosen provider has a certificate on file.
    pub provider_has_certificate: bool,
    pub postal_address: Option<&'a PostalAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// A mailbox at this Postkasse.
    OwnMailbox,
    /// Forwarded to another provider.
    Provider(OrgNr),
    /// Printed and posted to this address.
    Print(PostalAddress),
    /// Nobody can deliver it; the sender gets a `feil` receipt.
    Refused,
}

impl Channel {
    pub fn code(&self) -> &'static str {
        match self {
            Channel::OwnMailbox => "postkasse",
            Channel::Provider(_) => "leverandoer",
            Channel::Print(_) => "utskrift",
            Channel::Refused => "feil",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub channel: Channel,
    /// Why, in plain words; stored with the letter and sent in `feil` receipts.
    pub reason: String,
}

impl Decision {
    fn new(channel: Channel, reason: impl Into<String>) -> Decision {
        Decision {
            channel,
            reason: reason.into(),
        }
    }
}

/// Decides the channel for a digital message (`Process::Decision` or
/// `Process::Information`). `own_provider` is this Postkasse's organisation
/// number.
pub fn route(
    process: Process,
    facts: &RecipientFacts<'_>,
    own_provider: &OrgNr,
    now: DateTime<Utc>,
) -> Decision {
    let on_paper = |why: &str| match facts.postal_address {
        Some(address) => Decision::new(Channel::Print(address.clone()), why),
        None => Decision::new(
            Channel::Refused,
            format!("{why}, and no postal address is known for the recipient"),
        ),
    };
    let Some(person) = facts.person else {
        return on_paper("the recipient is not in the contact and reservation register");
    };
    if person.status == PersonStatus::Deleted {
        return on_paper("the recipient's register entry is deleted");
    }
    if process == Process::Decision {
        if person.reserved {
            return on_paper("the recipient has reserved against digital post");
        }
        if person.notification_status(now) == NotificationStatus::KanIkkeVarsles {
            return on_paper(
                "the recipient cannot be notified (no e-mail or mobile confirmed in the last 18 months)",
            );
        }
    }
    let mailbox = person
        .mailbox
        .as_ref()
        .filter(|_| facts.provider_has_certificate);
    match mailbox {
        Some(mailbox) if mailbox.provider == *own_provider => Decision::new(
            Channel::OwnMailbox,
            "the recipient chose a mailbox at this Postkasse",
        ),
        Some(mailbox) => Decision::new(
            Channel::Provider(mailbox.provider.clone()),
            format!(
                "the recipient chose a mailbox at provider {}",
                mailbox.provider
            ),
        ),
        None => on_paper("the recipient has no digital mailbox"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krr::{
        contact::EmailAddress,
        person::{Channel as ContactChannel, DigitalMailbox},
    };
    use app::domain::Fnr;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn own() -> OrgNr {
        OrgNr::parse("999900003").unwrap()
    }

    fn other() -> OrgNr {
        OrgNr::parse("921000006").unwrap()
    }

    fn address() -> PostalAddress {
        PostalAddress::norwegian("Kari Nordmann", "Storgata 1", "0155", "Oslo").unwrap()
    }

    /// An active, unreserved person with a fresh e-mail and a mailbox here.
    fn reachable() -> Person {
        let birth_date = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        let fnr = (100..500)
            .find_map(|individual| Fnr::synthetic(birth_date, individual))
            .unwrap();
        let mut person = Person::blank(fnr);
        person.email = Some(ContactChannel {
            value: EmailAddress::parse("kari@example.no").unwrap(),
            updated_at: now() - Duration::days(30),
            verified_at: None,
        });
        person.mailbox = Some(DigitalMailbox {
            address: "kari#1234".to_owned(),
            provider: own(),
        });
        person
    }

    fn decide(process: Process, person: Option<&Person>, has_address: bool) -> Decision {
        let address = address();
        route(
            process,
            &RecipientFacts {
                person,
                provider_has_certificate: true,
                postal_address: has_address.then_some(&address),
            },
            &own(),
            now(),
        )
    }

    #[test]
    fn a_reachable_citizen_gets_the_letter_in_the_mailbox_they_chose() {
        let person = reachable();
        assert_eq!(
            decide(Process::Decision, Some(&person), true).channel,
            Channel::OwnMailbox
        );
        let mut elsewhere = reachable();
        elsewhere.mailbox.as_mut().unwrap().provider = other();
        assert_eq!(
            decide(Process::Decision, Some(&elsewhere), true).channel,
            Channel::Provider(other())
        );
    }

    #[test]
    fn a_reserved_citizen_gets_decisions_on_paper_but_information_digitally() {
        let mut person = reachable();
        person.reserved = true;
        let decision = decide(Process::Decision, Some(&person), true);
        assert_eq!(decision.channel, Channel::Print(address()));
        assert!(decision.reason.contains("reserved"), "{}", decision.reason);
        assert_eq!(
            decide(Process::Information, Some(&person), true).channel,
            Channel::OwnMailbox
        );
    }

    #[test]
    fn a_citizen_who_cannot_be_notified_gets_decisions_on_paper() {
        let mut person = reachable();
        person.email.as_mut().unwrap().updated_at = now() - Duration::days(19 * 31);
        let decision = decide(Process::Decision, Some(&person), true);
        assert_eq!(decision.channel, Channel::Print(address()));
        assert!(decision.reason.contains("18 months"), "{}", decision.reason);
        assert_eq!(
            decide(Process::Information, Some(&person), true).channel,
            Channel::OwnMailbox
        );
    }

    #[test]
    fn without_a_mailbox_or_a_certificate_the_letter_is_printed() {
        let mut person = reachable();
        person.mailbox = None;
        assert_eq!(
            decide(Process::Information, Some(&person), true).channel,
            Channel::Print(address())
        );
        let person = reachable();
        let address = address();
        let decision = route(
            Process::Decision,
            &RecipientFacts {
                person: Some(&person),
                provider_has_certificate: false,
                postal_address: Some(&address),
            },
            &own(),
            now(),
        );
        assert_eq!(decision.channel, Channel::Print(address));
    }

    #[test]
    fn unknown_and_deleted_people_are_printed_when_an_address_is_known() {
        assert_eq!(
            decide(Process::Decision, None, true).channel,
            Channel::Print(address())
        );
        let mut person = reachable();
        person.status = PersonStatus::Deleted;
        assert_eq!(
            decide(Process::Information, Some(&person), true).channel,
            Channel::Print(address())
        );
    }

    #[test]
    fn without_a_postal_address_paper_is_impossible_and_the_letter_refused() {
        let decision = decide(Process::Decision, None, false);
        assert_eq!(decision.channel, Channel::Refused);
        assert!(
            decision
                .reason
                .contains("not in the contact and reservation register")
                && decision.reason.contains("no postal address"),
            "{}",
            decision.reason
        );
        let mut person = reachable();
        person.reserved = true;
        assert_eq!(
            decide(Process::Decision, Some(&person), false).channel,
            Channel::Refused
        );
    }

    #[test]
    fn process_codes_round_trip() {
        for process in [Process::Decision, Process::Information, Process::Print] {
            assert_eq!(Process::parse(process.code()), Some(process));
        }
        assert_eq!(Process::parse("other"), None);
    }
}
