//! Powers of attorney (fullmakt): a citizen (the principal) lets another
//! person (the delegate) read their letters, or read and answer them, from
//! all senders or from the senders the principal chooses, until a date.
//!
//! The delegate logs in as themselves and switches into the principal's
//! mailbox ([`routes`]); their session then names the power, and the
//! session layer checks it on every request ([`crate::auth::Powers`]). A
//! delegate's requests reach the mailbox as
//! [`ActingFor`](app::api::session::ActingFor), which only reading (and
//! answering, when the power allows) accepts, and the mailbox's queries
//! check the power again: in force, and reaching the letter's sender. So
//! ending a power, by either side, or its end date passing, takes effect
//! on the delegate's next request.
//!
//! What the principal sees: every letter the delegate opens or reads in
//! their access log under the delegate's name, and in "Min aktivitet" the
//! power given, each time it was taken into use, and its end. They are
//! told through their notice channels when a power is given, so a power
//! given from a session that was not theirs does not go unnoticed.

pub mod routes;
mod store;

pub use store::{NewFullmakt, Store, StoredFullmakt};

use crate::{
    activity::Activity,
    auth::PowerInForce,
    clock::{norwegian_date, Clock},
    errors::internal,
    krr::proof::Courier,
    store::StorageError,
};
use app::{
    api::{
        activity::ActivityKind,
        fullmakt::{
            field, EndedBy, FullmaktOverview, FullmaktView, GiveRequest, Reach, LONGEST_DAYS,
            NAME_MAX_CHARS,
        },
        session::{OnBehalf, SignedIn},
    },
    domain::{Fnr, FnrError, FullmaktId, Language, NoticeChannel, OrgNr, SyntheticIds},
    error::{AppError, Problem},
};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

pub struct FullmaktService {
    store: Arc<dyn Store>,
    /// Where the principal's notice addresses and language are.
    register: Arc<dyn crate::krr::Store>,
    /// Tells the principal a power was given.
    courier: Arc<dyn Courier>,
    activity: Arc<dyn crate::activity::Store>,
    clock: Arc<dyn Clock>,
    synthetic_ids: SyntheticIds,
}

/// What the principal asked for, checked.
struct Terms {
    delegate: Fnr,
    delegate_name: String,
    reach: Reach,
    /// None: all senders.
    senders: Option<Vec<OrgNr>>,
    ends_on: NaiveDate,
}

/// A power ends at the end of its last day in Norway.
fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let next_midnight = date
        .succ_opt()
        .unwrap_or(date)
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    chrono_tz::Europe::Oslo
        .from_local_datetime(&next_midnight)
        .earliest()
        .map_or_else(|| next_midnight.and_utc(), |at| at.with_timezone(&Utc))
}

fn fnr_problem(error: FnrError) -> Problem {
    match error {
        FnrError::BornInTheFuture => Problem::BornInTheFuture,
        _ => Problem::NotANationalId,
    }
}

/// A power as one side sees it: `as_principal` for the one who gave it.
fn view(power: StoredFullmakt, as_principal: bool, now: DateTime<Utc>) -> FullmaktView {
    let in_force = power.in_force(now);
    let (other_name, other_birth_date) = if as_principal {
        (Some(power.delegate_name), power.delegate.birth_date())
    } else {
        (power.principal_name, power.principal.birth_date())
    };
    FullmaktView {
        id: power.id,
        other_name,
        other_birth_date,
        reach: if power.may_reply {
            Reach::ReadAndReply
        } else {
            Reach::Read
        },
        senders: power.senders,
        created_at: power.created_at,
        ends_at: power.ends_at,
        ended: power.ended,
        in_force,
    }
}

/// The message that tells the principal a power was given: no names, as
/// notices carry none; the page says who.
fn given_message(ends_on: NaiveDate, language: Option<Language>) -> String {
    let date = ends_on.format("%d.%m.%Y");
    match language {
        Some(Language::Nynorsk) => format!(
            "Du har gitt nokon fullmakt til posten din i Postkasse, til og med {date}. \
             Var det ikkje deg? Logg inn og avslutt henne under Fullmakter."
        ),
        Some(Language::English) => format!(
            "You have given someone power of attorney over your post in Postkasse, until {date}. \
             Was it not you? Log in and end it under Fullmakter."
        ),
        Some(Language::Bokmaal | Language::Sami) | None => format!(
            "Du har gitt noen fullmakt til posten din i Postkasse, til og med {date}. \
             Var det ikke deg? Logg inn og avslutt den under Fullmakter."
        ),
    }
}

impl FullmaktService {
    pub fn new(
        store: Arc<dyn Store>,
        register: Arc<dyn crate::krr::Store>,
        courier: Arc<dyn Courier>,
        activity: Arc<dyn crate::activity::Store>,
        clock: Arc<dyn Clock>,
        synthetic_ids: SyntheticIds,
    ) -> Self {
        Self {
            store,
            register,
            courier,
            activity,
            clock,
            synthetic_ids,
        }
    }

    /// The delegate takes power `id` into use: the principal's activity log
    /// says so. [`AppError::NotFound`] when they hold no such power in force.
    pub async fn take_into_use(&self, delegate: &SignedIn, id: FullmaktId) -> Result<(), AppError> {
        let power = self
            .store
            .fullmakt_in_force(id, &delegate.fnr, self.clock.now())
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        self.activity
            .record_activity(&[Activity {
                fnr: power.principal,
                at: self.clock.now(),
                kind: ActivityKind::FullmaktUsed {
                    delegate: power.delegate_name,
                },
            }])
            .await
            .map_err(internal)
    }

    fn parse(
        &self,
        viewer: &SignedIn,
        request: &GiveRequest,
        known_senders: &[OrgNr],
        today: NaiveDate,
    ) -> Result<Terms, AppError> {
        let delegate = Fnr::parse_on(request.fnr.trim(), self.synthetic_ids, today)
            .map_err(|error| AppError::invalid(field::FNR, fnr_problem(error)))?;
        if delegate == viewer.fnr {
            return Err(AppError::invalid(field::FNR, Problem::OwnNationalId));
        }
        let name = request.name.trim();
        if name.is_empty() {
            return Err(AppError::invalid(field::NAME, Problem::Empty));
        }
        if name.chars().count() > NAME_MAX_CHARS as usize {
            return Err(AppError::invalid(
                field::NAME,
                Problem::TooLong {
                    max: NAME_MAX_CHARS,
                },
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::invalid(field::NAME, Problem::ControlCharacters));
        }
        let reach = Reach::from_code(&request.reach)
            .ok_or_else(|| AppError::invalid(field::REACH, Problem::Malformed))?;
        let senders = match request.senders.as_str() {
            "alle" => None,
            "valgte" => {
                let mut chosen = Vec::new();
                for org_nr in &request.chosen {
                    let org_nr = OrgNr::parse(org_nr)
                        .ok()
                        .filter(|org_nr| known_senders.contains(org_nr))
                        .ok_or_else(|| AppError::invalid(field::SENDER, Problem::UnknownSender))?;
                    if !chosen.contains(&org_nr) {
                        chosen.push(org_nr);
                    }
                }
                if chosen.is_empty() {
                    return Err(AppError::invalid(field::SENDERS, Problem::NoSenderChosen));
                }
                Some(chosen)
            }
            _ => return Err(AppError::invalid(field::SENDERS, Problem::Malformed)),
        };
        let ends_on = NaiveDate::parse_from_str(request.ends_on.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid(field::ENDS_ON, Problem::NotADate))?;
        if ends_on <= today {
            return Err(AppError::invalid(field::ENDS_ON, Problem::NotAfterToday));
        }
        if (ends_on - today).num_days() > LONGEST_DAYS {
            return Err(AppError::invalid(
                field::ENDS_ON,
                Problem::TooFarAhead {
                    max_days: LONGEST_DAYS as u32,
                },
            ));
        }
        Ok(Terms {
            delegate,
            delegate_name: name.to_owned(),
            reach,
            senders,
            ends_on,
        })
    }

    /// Tells the principal, through each address the register has for
    /// them, that a power was given. The power stands whether or not the
    /// message gets through; a failure is logged.
    async fn tell_principal(&self, principal: &Fnr, id: FullmaktId, ends_on: NaiveDate) {
        let entry = match self.register.register_entry(principal).await {
            Ok(Some(entry)) => entry,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(error = %error, "the principal's addresses could not be read");
                return;
            }
        };
        let person = entry.person;
        let text = given_message(ends_on, person.language);
        let addresses = [
            person
                .email
                .map(|email| (NoticeChannel::Email, email.value.as_str().to_owned())),
            person
                .mobile
                .map(|mobile| (NoticeChannel::Sms, mobile.value.as_str().to_owned())),
        ];
        for (channel, address) in addresses.into_iter().flatten() {
            if let Err(error) = self
                .courier
                .send_now(id.as_uuid(), channel, &address, &text)
                .await
            {
                tracing::warn!(fullmakt = %id, ?channel, error = ?error, "the principal was not told of a power");
            }
        }
    }
}

#[async_trait::async_trait]
impl crate::auth::Powers for FullmaktService {
    async fn power_in_force(
        &self,
        id: FullmaktId,
        delegate: &Fnr,
    ) -> Result<Option<PowerInForce>, StorageError> {
        Ok(self
            .store
            .fullmakt_in_force(id, delegate, self.clock.now())
            .await?
            .map(|power| PowerInForce {
                on_behalf: OnBehalf {
                    fullmakt: power.id,
                    delegate: power.delegate,
                    delegate_name: power.delegate_name,
                    may_reply: power.may_reply,
                    all_senders: power.senders.is_none(),
                },
                principal: power.principal,
                principal_name: power.principal_name,
            }))
    }
}

#[async_trait::async_trait]
impl app::api::fullmakt::ssr::Powers for FullmaktService {
    async fn overview(&self, viewer: &SignedIn) -> Result<FullmaktOverview, AppError> {
        let now = self.clock.now();
        let given = self
            .store
            .fullmakter_given(&viewer.fnr)
            .await
            .map_err(internal)?;
        let received = self
            .store
            .fullmakter_received(&viewer.fnr)
            .await
            .map_err(internal)?;
        let senders = self
            .store
            .senders_in_mailbox(&viewer.fnr)
            .await
            .map_err(internal)?;
        Ok(FullmaktOverview {
            given: given
                .into_iter()
                .map(|power| view(power, true, now))
                .collect(),
            received: received
                .into_iter()
                .map(|power| view(power, false, now))
                .collect(),
            senders,
            today: norwegian_date(now),
        })
    }

    async fn give(&self, viewer: &SignedIn, request: GiveRequest) -> Result<FullmaktId, AppError> {
        let now = self.clock.now();
        let today = norwegian_date(now);
        let known_senders: Vec<OrgNr> = self
            .store
            .senders_in_mailbox(&viewer.fnr)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|sender| sender.org_nr)
            .collect();
        let terms = self.parse(viewer, &request, &known_senders, today)?;
        let power = NewFullmakt {
            id: FullmaktId::generate(),
            principal: viewer.fnr.clone(),
            principal_name: viewer.display_name.clone(),
            delegate: terms.delegate,
            delegate_name: terms.delegate_name.clone(),
            may_reply: terms.reach == Reach::ReadAndReply,
            senders: terms.senders,
            created_at: now,
            ends_at: end_of_day(terms.ends_on),
        };
        self.store.insert_fullmakt(&power).await.map_err(internal)?;
        self.activity
            .record_activity(&[Activity {
                fnr: viewer.fnr.clone(),
                at: now,
                kind: ActivityKind::FullmaktGiven {
                    delegate: terms.delegate_name,
                },
            }])
            .await
            .map_err(internal)?;
        tracing::info!(fullmakt = %power.id, "a power of attorney was given");
        self.tell_principal(&viewer.fnr, power.id, terms.ends_on)
            .await;
        Ok(power.id)
    }

    async fn end(&self, viewer: &SignedIn, id: FullmaktId) -> Result<(), AppError> {
        let now = self.clock.now();
        let ended = self
            .store
            .end_fullmakt(id, &viewer.fnr, now)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        self.activity
            .record_activity(&[Activity {
                fnr: ended.principal.clone(),
                at: now,
                kind: ActivityKind::FullmaktEnded {
                    delegate: ended.delegate_name.clone(),
                    by_delegate: matches!(ended.ended, Some((_, EndedBy::Delegate))),
                },
            }])
            .await
            .map_err(internal)?;
        tracing::info!(fullmakt = %id, "a power of attorney was ended");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_lasts_to_the_end_of_its_last_day_in_norway() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        // Winter: Norway is UTC+1, so midnight after the 24th is 23:00 UTC.
        assert_eq!(end_of_day(date).to_rfc3339(), "2026-12-24T23:00:00+00:00");
        let summer = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        assert_eq!(end_of_day(summer).to_rfc3339(), "2027-06-30T22:00:00+00:00");
    }

    #[test]
    fn the_message_names_nobody_and_says_what_to_do() {
        let date = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        let text = given_message(date, None);
        assert!(text.contains("31.01.2027"), "{text}");
        assert!(text.contains("Fullmakter"), "{text}");
        assert!(given_message(date, Some(Language::English)).starts_with("You have given"));
        assert!(given_message(date, Some(Language::Nynorsk)).contains("nokon"));
    }
}
