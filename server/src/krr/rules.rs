//! When KRR's contact details may be used to notify: the 18-month rule of
//! eForvaltningsforskriften §32 and the `varslingsstatus` derived from it.
//!
//! Contact details may be used to notify about decisions and other important
//! letters only if they were updated or confirmed by the citizen less than 18
//! months ago. The rule is applied per channel: an old e-mail address does
//! not spoil a freshly confirmed mobile number. KRR still hands out expired
//! details (they may serve other purposes); it is the status that says no.

use chrono::{DateTime, Months, Utc};
use serde::Serialize;

/// How long a confirmation of contact details lasts.
pub const CONTACT_DETAILS_VALID_FOR: Months = Months::new(18);

/// KRR's `varslingsstatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationStatus {
    KanVarsles,
    KanIkkeVarsles,
}

/// Whether one channel, last updated at `updated` and last confirmed at
/// `verified`, may be used at `now`: the newer of the two must be less than
/// 18 calendar months old. A channel with neither time may not be used.
pub fn channel_is_current(
    updated: Option<DateTime<Utc>>,
    verified: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(latest) = updated.max(verified) else {
        return false;
    };
    match latest.checked_add_months(CONTACT_DETAILS_VALID_FOR) {
        Some(expires) => now < expires,
        None => false,
    }
}

/// What the derivation of `varslingsstatus` needs to know about a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationFacts {
    pub active: bool,
    pub reserved: bool,
    /// The e-mail channel: present, and its update and confirmation times.
    pub email: Option<ChannelTimes>,
    pub mobile: Option<ChannelTimes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelTimes {
    pub updated: Option<DateTime<Utc>>,
    pub verified: Option<DateTime<Utc>>,
}

impl ChannelTimes {
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        channel_is_current(self.updated, self.verified, now)
    }
}

/// KAN_VARSLES only for an active, unreserved person with at least one
/// current channel.
pub fn notification_status(facts: &NotificationFacts, now: DateTime<Utc>) -> NotificationStatus {
    let any_current_channel = [facts.email, facts.mobile]
        .into_iter()
        .flatten()
        .any(|channel| channel.is_current(now));
    if facts.active && !facts.reserved && any_current_channel {
        NotificationStatus::KanVarsles
    } else {
        NotificationStatus::KanIkkeVarsles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, 12, 0, 0).unwrap()
    }

    const CONFIRMED: fn() -> DateTime<Utc> = || at(2025, 3, 15);
    /// 18 calendar months after CONFIRMED.
    const EXPIRY: fn() -> DateTime<Utc> = || at(2026, 9, 15);

    fn times(updated: Option<DateTime<Utc>>, verified: Option<DateTime<Utc>>) -> ChannelTimes {
        ChannelTimes { updated, verified }
    }

    fn facts(email: Option<ChannelTimes>, mobile: Option<ChannelTimes>) -> NotificationFacts {
        NotificationFacts {
            active: true,
            reserved: false,
            email,
            mobile,
        }
    }

    #[test]
    fn an_update_lasts_until_one_day_before_eighteen_months_have_passed() {
        let one_day = Duration::days(1);
        assert!(channel_is_current(
            Some(CONFIRMED()),
            None,
            EXPIRY() - one_day
        ));
        assert!(!channel_is_current(
            Some(CONFIRMED()),
            None,
            EXPIRY() + one_day
        ));
        // "Under 18 months old": at exactly 18 months it has expired.
        assert!(!channel_is_current(Some(CONFIRMED()), None, EXPIRY()));
        assert!(channel_is_current(
            Some(CONFIRMED()),
            None,
            EXPIRY() - Duration::seconds(1)
        ));
    }

    #[test]
    fn a_confirmation_counts_as_much_as_an_update() {
        let old_update = Some(at(2020, 1, 1));
        let one_day = Duration::days(1);
        assert!(channel_is_current(
            old_update,
            Some(CONFIRMED()),
            EXPIRY() - one_day
        ));
        assert!(!channel_is_current(
            old_update,
            Some(CONFIRMED()),
            EXPIRY() + one_day
        ));
        // The newer of the two decides, whichever it is.
        assert!(channel_is_current(
            Some(CONFIRMED()),
            Some(at(2020, 1, 1)),
            EXPIRY() - one_day
        ));
    }

    #[test]
    fn months_are_calendar_months() {
        // 31 August + 18 months is the last day of February.
        let confirmed = at(2024, 8, 31);
        assert!(channel_is_current(Some(confirmed), None, at(2026, 2, 27)));
        assert!(!channel_is_current(Some(confirmed), None, at(2026, 3, 1)));
    }

    #[test]
    fn a_channel_without_times_is_never_current() {
        assert!(!channel_is_current(None, None, CONFIRMED()));
    }

    #[test]
    fn the_rule_is_applied_per_channel() {
        let old = times(Some(at(2020, 1, 1)), None);
        let fresh = times(Some(CONFIRMED()), None);
        let day_before = EXPIRY() - Duration::days(1);
        let day_after = EXPIRY() + Duration::days(1);
        // Expired e-mail, current mobile, and the other way round: notifiable.
        assert_eq!(
            notification_status(&facts(Some(old), Some(fresh)), day_before),
            NotificationStatus::KanVarsles
        );
        assert_eq!(
            notification_status(&facts(Some(fresh), Some(old)), day_before),
            NotificationStatus::KanVarsles
        );
        // A day later the one current channel has expired too.
        assert_eq!(
            notification_status(&facts(Some(old), Some(fresh)), day_after),
            NotificationStatus::KanIkkeVarsles
        );
        assert_eq!(
            notification_status(&facts(Some(fresh), None), day_after),
            NotificationStatus::KanIkkeVarsles
        );
    }

    #[test]
    fn reserved_or_inactive_people_cannot_be_notified_whatever_their_details() {
        let fresh = Some(times(Some(CONFIRMED()), Some(CONFIRMED())));
        let now = CONFIRMED() + Duration::days(1);
        let mut person = facts(fresh, fresh);
        assert_eq!(
            notification_status(&person, now),
            NotificationStatus::KanVarsles
        );
        person.reserved = true;
        assert_eq!(
            notification_status(&person, now),
            NotificationStatus::KanIkkeVarsles
        );
        person.reserved = false;
        person.active = false;
        assert_eq!(
            notification_status(&person, now),
            NotificationStatus::KanIkkeVarsles
        );
    }

    #[test]
    fn a_person_without_contact_details_cannot_be_notified() {
        assert_eq!(
            notification_status(&facts(None, None), CONFIRMED()),
            NotificationStatus::KanIkkeVarsles
        );
    }

    #[test]
    fn the_status_serialises_as_krr_spells_it() {
        assert_eq!(
            serde_json::to_string(&NotificationStatus::KanIkkeVarsles).unwrap(),
            "\"KAN_IKKE_VARSLES\""
        );
    }
}
