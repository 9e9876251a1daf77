//! The contact and reservation register (KRR): for every person, how to reach
//! them, whether they have reserved against digital post, and which digital
//! mailbox they chose.
//!
//! - [`rules`]: the 18-month rule and the derived `varslingsstatus`.
//! - [`contact`], [`person`]: the entry and its checked parts.
//! - [`lookup`]: the agencies' lookup (`POST /rest/v1/personer`), its JSON and scopes.
//! - [`import`]: bulk import from CSV for operators and the demo.
//! - [`providers`]: mailbox providers, this Postkasse's own certificate.
//! - [`proof`]: the code that proves a new e-mail address or mobile number.
//! - [`Register`]: the service the lookup API and the citizen's settings page call.

pub mod contact;
pub mod http;
pub mod import;
pub mod lookup;
pub mod person;
pub mod proof;
pub mod providers;
pub mod rules;
mod store;

pub use store::{RegisterEntry, Store, IMPORT_BATCH_ROWS};

use crate::{clock::Clock, errors::internal, store::StorageError};
use app::{
    api::{
        contact::{
            AddressChange, ChangeRequest, ChangeView, ChangeWhat, ChannelView, ContactSettings,
            NoticeChoice, PendingProof, ProviderChoice,
        },
        session::SignedIn,
    },
    domain::{Fnr, Language, NoticeChannel, OrgNr, SyntheticIds},
    error::{AppError, Problem},
};
use contact::{ContactError, EmailAddress, MobileNumber};
use lookup::{LookupScopes, PersonResource};
use person::{Channel, DigitalMailbox, MailboxProvider, Person, SelfServiceChange};
use proof::{ContactProof, Courier, NewAddress, NotSent, OneTimeCode};
use rules::NotificationStatus;
use std::{collections::HashMap, sync::Arc};

/// At most this many persons in one lookup, as in KRR.
pub const MAX_LOOKUP_IDS: usize = 1000;

/// The citizen's own choice of notices for new letters, shown and changed
/// on the settings page beside their entry. The notices keep it
/// (`notify::Preferences` implements this); the register only passes it on.
#[async_trait::async_trait]
pub trait NoticeChoices: Send + Sync + 'static {
    async fn notice_choice(&self, fnr: &Fnr) -> Result<NoticeChoice, StorageError>;

    async fn choose_notices(
        &self,
        fnr: &Fnr,
        choice: NoticeChoice,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StorageError>;
}

pub struct Register {
    store: Arc<dyn Store>,
    notices: Arc<dyn NoticeChoices>,
    /// Carries the codes that prove new addresses.
    courier: Arc<dyn Courier>,
    /// Lookups of contact details are recorded for each person's "Min aktivitet".
    activity: Arc<dyn crate::activity::Store>,
    clock: Arc<dyn Clock>,
    /// Whether test ids (Tenor's and Postkasse's synthetic ones) are people here.
    synthetic_ids: SyntheticIds,
}

fn contact_problem(error: ContactError) -> Problem {
    match error {
        ContactError::Missing => Problem::Missing,
        ContactError::InvalidEmail => Problem::InvalidEmail,
        ContactError::InvalidMobile => Problem::InvalidMobile,
        ContactError::NotMobile => Problem::NotMobile,
    }
}

fn channel_view<T>(
    channel: &Channel<T>,
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ChannelView {
    ChannelView {
        value: value.to_owned(),
        updated_at: channel.updated_at,
        verified_at: channel.verified_at,
        current: channel.times().is_current(now),
    }
}

impl Register {
    pub fn new(
        store: Arc<dyn Store>,
        notices: Arc<dyn NoticeChoices>,
        courier: Arc<dyn Courier>,
        activity: Arc<dyn crate::activity::Store>,
        clock: Arc<dyn Clock>,
        synthetic_ids: SyntheticIds,
    ) -> Self {
        Self {
            store,
            notices,
            courier,
            activity,
            clock,
            synthetic_ids,
        }
    }

    /// Whether synthetic national ids are accepted, as the settings say.
    pub fn synthetic_ids(&self) -> SyntheticIds {
        self.synthetic_ids
    }

    /// Today's date in Norway, by the register's clock: no id's birth date
    /// may be after it.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::norwegian_date(self.clock.now())
    }

    /// Answers a lookup by `agency`: one person per requested id, in the
    /// order asked, unknown ids as `IKKE_REGISTRERT`, fields as the scopes
    /// allow. A lookup of contact details is recorded for each person
    /// before it is answered.
    pub async fn lookup(
        &self,
        ids: &[Fnr],
        scopes: LookupScopes,
        agency: &str,
    ) -> Result<Vec<PersonResource>, StorageError> {
        let entries = self.store.register_entries(ids).await?;
        let now = self.clock.now();
        if scopes.contact {
            let lookups: Vec<crate::activity::Activity> = ids
                .iter()
                .map(|fnr| crate::activity::Activity {
                    fnr: fnr.clone(),
                    at: now,
                    kind: app::api::activity::ActivityKind::Lookup {
                        agency: agency.to_owned(),
                    },
                })
                .collect();
            self.activity.record_activity(&lookups).await?;
        }
        let by_id: HashMap<&str, _> = entries
            .iter()
            .map(|entry| (entry.person.fnr.as_str(), entry))
            .collect();
        Ok(ids
            .iter()
            .map(|id| match by_id.get(id.as_str()) {
                Some(entry) => PersonResource::registered(entry, scopes, now),
                None => PersonResource::not_registered(id, scopes),
            })
            .collect())
    }

    /// The person's entry, or a blank one if the register has none yet.
    pub async fn person(&self, fnr: &Fnr) -> Result<Person, StorageError> {
        Ok(self
            .store
            .register_entry(fnr)
            .await?
            .map(|entry| entry.person)
            .unwrap_or_else(|| Person::blank(fnr.clone())))
    }

    /// Turns what the citizen typed into a change, or says which field is wrong.
    async fn parse_change(
        &self,
        citizen: &SignedIn,
        request: ChangeRequest,
    ) -> Result<SelfServiceChange, AppError> {
        Ok(match request {
            ChangeRequest::Confirm => SelfServiceChange::Confirm,
            ChangeRequest::Reserve => SelfServiceChange::Reserve,
            ChangeRequest::WithdrawReservation => SelfServiceChange::WithdrawReservation,
            ChangeRequest::Language(code) => SelfServiceChange::Language(
                Language::parse(&code)
                    .map_err(|_| AppError::invalid("language", Problem::UnknownLanguage))?,
            ),
            ChangeRequest::Mailbox(org_nr) => {
                let chosen = OrgNr::parse(&org_nr)
                    .ok()
                    .ok_or_else(|| AppError::invalid("provider", Problem::UnknownProvider))?;
                let providers = self.store.mailbox_providers().await.map_err(internal)?;
                if !providers.iter().any(|provider| provider.org_nr == chosen) {
                    return Err(AppError::invalid("provider", Problem::UnknownProvider));
                }
                // The address is stable: choosing the same provider again
                // keeps the one senders may already have looked up.
                let current = self.person(&citizen.fnr).await.map_err(internal)?.mailbox;
                let address = match current {
                    Some(mailbox) if mailbox.provider == chosen => mailbox.address,
                    _ => mailbox_address(citizen),
                };
                SelfServiceChange::Mailbox(DigitalMailbox {
                    address,
                    provider: chosen,
                })
            }
        })
    }

    /// Sends a code to prove `address`, unless the person had the hour's
    /// codes already. The proof is stored before the code goes out, so a
    /// code that arrives always has its proof.
    async fn send_proof(
        &self,
        fnr: &Fnr,
        address: NewAddress,
        field: &str,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let channel = address.channel();
        let (proof, code) = ContactProof::new(fnr.clone(), address, now);
        let within_limit = self
            .store
            .insert_contact_proof(
                &proof,
                now - proof::KEPT_FOR,
                (now - chrono::Duration::hours(1), proof::CODES_PER_HOUR),
            )
            .await
            .map_err(internal)?;
        if !within_limit {
            return Err(AppError::invalid(field, Problem::TooManyCodes));
        }
        let language = self.person(fnr).await.map_err(internal)?.language;
        let text = proof::code_message(&code, channel, language);
        match self
            .courier
            .send_now(proof.id, channel, proof.address.as_str(), &text)
            .await
        {
            Ok(()) => Ok(()),
            Err(NotSent::Refused) => Err(AppError::invalid(field, Problem::Unreachable)),
            Err(NotSent::Unavailable) => Err(AppError::Internal),
        }
    }

    /// Takes a typed code for the code sent on `channel`: a try is
    /// counted before the code is compared, and only the right code, in
    /// time and within the tries, stores the address.
    async fn check_proof(
        &self,
        fnr: &Fnr,
        channel: NoticeChannel,
        typed: &str,
    ) -> Result<(), AppError> {
        const FIELD: &str = "code";
        let refuse = |problem| Err(AppError::invalid(FIELD, problem));
        let Some(code) = OneTimeCode::parse(typed) else {
            return refuse(Problem::NotACode);
        };
        let Some(proof) = self.open_proof(fnr, channel).await? else {
            return refuse(Problem::NoCodeSent);
        };
        let now = self.clock.now();
        if proof.is_expired(now) {
            return refuse(Problem::CodeExpired);
        }
        let Some(tries) = self.store.take_try(&proof, now).await.map_err(internal)? else {
            // Other tries took the last ones since the proof was read, or a
            // submit that won proved it, or a new code replaced it.
            return refuse(match self.open_proof(fnr, channel).await? {
                Some(open) if open.id == proof.id => Problem::NoTriesLeft,
                _ => Problem::NoCodeSent,
            });
        };
        if !code.matches(&proof) {
            let tries_left = proof::TRIES.saturating_sub(tries);
            return refuse(if tries_left == 0 {
                Problem::NoTriesLeft
            } else {
                Problem::WrongCode { tries_left }
            });
        }
        if self
            .store
            .prove_contact(&proof, now)
            .await
            .map_err(internal)?
        {
            Ok(())
        } else {
            refuse(Problem::NoCodeSent)
        }
    }

    /// The code that works on `channel`, if one was sent and is not yet
    /// proven or replaced.
    async fn open_proof(
        &self,
        fnr: &Fnr,
        channel: NoticeChannel,
    ) -> Result<Option<ContactProof>, AppError> {
        Ok(self
            .store
            .open_contact_proofs(fnr)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|proof| proof.address.channel() == channel))
    }

    fn change_view(change: person::RecordedChange, providers: &[MailboxProvider]) -> ChangeView {
        // Stored values are codes; the citizen reads names.
        let value = change.value.map(|value| match change.what {
            ChangeWhat::Mailbox => providers
                .iter()
                .find(|provider| provider.org_nr.as_str() == value)
                .map(|provider| provider.name.clone())
                .unwrap_or(value),
            ChangeWhat::Language => Language::parse(&value)
                .map(|language| language.endonym().to_owned())
                .unwrap_or(value),
            _ => value,
        });
        ChangeView {
            at: change.at,
            what: change.what,
            value,
            by: change.by,
        }
    }
}

/// A contact detail the citizen may also remove: empty input means none.
fn optional_field<T>(
    text: &str,
    field: &str,
    parse: impl Fn(&str) -> Result<T, ContactError>,
) -> Result<Option<T>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse(text)
        .map(Some)
        .map_err(|error| AppError::invalid(field, contact_problem(error)))
}

/// A `postkasseadresse` for the citizen, in KRR's form (`ola.nordmann#9YDT`):
/// their name, then a random suffix. An interpretation: in the real system
/// the chosen provider assigns the address when the citizen signs up with it;
/// here the choice is made in one place, so the address is made here too.
/// A provider finds the citizen a message is for by this address alone, so
/// the suffix is long enough not to be guessed (8 characters of 32, 40 bits;
/// KRR's examples have 4) and leaves out the look-alikes 0/O and 1/I (see
/// docs/protocol.md#choices-where-the-sources-are-silent).
fn mailbox_address(citizen: &SignedIn) -> String {
    use rand::Rng;
    const SUFFIX_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let name: String = citizen
        .display_name
        .as_deref()
        .unwrap_or("innbygger")
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(".");
    let mut rng = rand::rngs::OsRng;
    let suffix: String = (0..8)
        .map(|_| char::from(SUFFIX_ALPHABET[rng.gen_range(0..SUFFIX_ALPHABET.len())]))
        .collect();
    format!("{name}#{suffix}")
}

#[async_trait::async_trait]
impl app::api::contact::ssr::ContactRegister for Register {
    async fn settings(&self, viewer: &SignedIn) -> Result<ContactSettings, AppError> {
        let now = self.clock.now();
        let person = self.person(&viewer.fnr).await.map_err(internal)?;
        let providers = self.store.mailbox_providers().await.map_err(internal)?;
        let changes = self
            .store
            .register_changes(&viewer.fnr)
            .await
            .map_err(internal)?;
        let proofs = self
            .store
            .open_contact_proofs(&viewer.fnr)
            .await
            .map_err(internal)?;
        // Shown while the code still works; after that, saving the address
        // again sends a new one.
        let pending = |channel: NoticeChannel| {
            proofs
                .iter()
                .find(|proof| proof.address.channel() == channel)
                .filter(|proof| !proof.is_expired(now) && proof.tries_left() > 0)
                .map(|proof| PendingProof {
                    address: proof.address.as_str().to_owned(),
                    sent_at: proof.sent_at,
                    expires_at: proof.expires_at,
                    tries_left: proof.tries_left(),
                })
        };
        Ok(ContactSettings {
            email: person
                .email
                .as_ref()
                .map(|channel| channel_view(channel, channel.value.as_str(), now)),
            mobile: person
                .mobile
                .as_ref()
                .map(|channel| channel_view(channel, channel.value.as_str(), now)),
            pending_email: pending(NoticeChannel::Email),
            pending_mobile: pending(NoticeChannel::Sms),
            reserved: person.reserved,
            reserved_at: person.reserved_at,
            provider: person
                .mailbox
                .as_ref()
                .map(|mailbox| mailbox.provider.as_str().to_owned()),
            mailbox_address: person
                .mailbox
                .as_ref()
                .map(|mailbox| mailbox.address.clone()),
            providers: providers
                .iter()
                .map(|provider| ProviderChoice {
                    org_nr: provider.org_nr.as_str().to_owned(),
                    name: provider.name.clone(),
                    own: provider.endpoint.is_none(),
                })
                .collect(),
            language: person.language,
            can_be_notified: person.notification_status(now) == NotificationStatus::KanVarsles,
            changes: changes
                .into_iter()
                .map(|change| Self::change_view(change, &providers))
                .collect(),
            notices: self
                .notices
                .notice_choice(&viewer.fnr)
                .await
                .map_err(internal)?,
        })
    }

    async fn change(&self, viewer: &SignedIn, request: ChangeRequest) -> Result<(), AppError> {
        let change = self.parse_change(viewer, request).await?;
        self.store
            .apply_self_service(&viewer.fnr, &change, self.clock.now())
            .await
            .map_err(internal)
    }

    async fn change_address(
        &self,
        viewer: &SignedIn,
        channel: NoticeChannel,
        typed: String,
    ) -> Result<AddressChange, AppError> {
        // The form field each channel's address is typed in.
        let field = match channel {
            NoticeChannel::Email => "email",
            NoticeChannel::Sms => "mobile",
        };
        let address = match channel {
            NoticeChannel::Email => {
                optional_field(&typed, field, EmailAddress::parse)?.map(NewAddress::Email)
            }
            NoticeChannel::Sms => {
                optional_field(&typed, field, MobileNumber::parse)?.map(NewAddress::Mobile)
            }
        };
        match address {
            Some(address) => {
                self.send_proof(&viewer.fnr, address, field).await?;
                Ok(AddressChange::CodeSent)
            }
            None => {
                let removal = match channel {
                    NoticeChannel::Email => SelfServiceChange::Email(None),
                    NoticeChannel::Sms => SelfServiceChange::Mobile(None),
                };
                self.store
                    .apply_self_service(&viewer.fnr, &removal, self.clock.now())
                    .await
                    .map_err(internal)?;
                Ok(AddressChange::Removed)
            }
        }
    }

    async fn prove_address(
        &self,
        viewer: &SignedIn,
        channel: NoticeChannel,
        code: String,
    ) -> Result<(), AppError> {
        self.check_proof(&viewer.fnr, channel, &code).await
    }

    async fn choose_notices(
        &self,
        viewer: &SignedIn,
        choice: NoticeChoice,
    ) -> Result<(), AppError> {
        self.notices
            .choose_notices(&viewer.fnr, choice, self.clock.now())
            .await
            .map_err(internal)
    }
}
