//! When a notice may go out: the pure day-time window calculation.
//!
//! Notices go out only in the daytime, in the citizen's local time
//! (Europe/Oslo by default). A day-0 notice for a letter that becomes
//! available after the window has closed waits for the next opening; later
//! repetitions keep the day they fall on (docs/protocol.md#notices,
//! "Evening arrival").

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The daily window notices may be sent in, in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub zone: Tz,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl DayWindow {
    /// A window that opens before it closes, on the same day.
    pub fn new(zone: Tz, opens: NaiveTime, closes: NaiveTime) -> Result<DayWindow, String> {
        if opens >= closes {
            return Err(format!(
                "the notice window must open before it closes ({opens}–{closes})"
            ));
        }
        Ok(DayWindow {
            zone,
            opens,
            closes,
        })
    }

    /// When the notice `days` after `effective` is due.
    ///
    /// Day 0: `effective` if it is inside the window, else the next opening.
    /// Later days: the same local time `days` calendar days on, moved into
    /// that day's window, never to another day.
    pub fn due(&self, effective: DateTime<Utc>, days: u8) -> DateTime<Utc> {
        let local = effective.with_timezone(&self.zone);
        let date = local.date_naive();
        let time = local.time();
        if days == 0 {
            return if time < self.opens {
                self.at(date, self.opens)
            } else if time < self.closes {
                effective
            } else {
                self.at(date + Days::new(1), self.opens)
            };
        }
        let day = date + Days::new(u64::from(days));
        let time = if time < self.opens || time >= self.closes {
            self.opens
        } else {
            time
        };
        self.at(day, time)
    }

    /// The local calendar day of `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let time = at.with_timezone(&self.zone).time();
        time >= self.opens && time < self.closes
    }

    /// A local wall-clock time as an instant. In the autumn's repeated hour
    /// the earlier instant is taken; a time that does not exist (the spring
    /// gap) is taken as the first instant after the gap.
    fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = date.and_time(time);
        if let Some(instant) = self.zone.from_local_datetime(&naive).earliest() {
            return instant.with_timezone(&Utc);
        }
        // Gaps are at most an hour in Europe/Oslo; step forward until the
        // wall clock exists again (bounded, for exotic zones).
        let mut probe = naive;
        for _ in 0..(4 * 60) {
            probe += chrono::Duration::minutes(1);
            if let Some(instant) = self.zone.from_local_datetime(&probe).earliest() {
                return instant.with_timezone(&Utc);
            }
        }
        Utc.from_utc_datetime(&naive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oslo(window: (u32, u32)) -> DayWindow {
        DayWindow::new(
            chrono_tz::Europe::Oslo,
            NaiveTime::from_hms_opt(window.0, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(window.1, 0, 0).unwrap(),
        )
        .unwrap()
    }

    fn local(text: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Oslo
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_seed_example_notifies_on_the_25th_and_the_1st() {
        // Sent 23:00 on 24.06.2017 without an effective time, available 23:30,
        // notices on day 0 and 7.
        let window = oslo((9, 17));
        let available = local("2017-06-24 23:30");
        assert_eq!(window.due(available, 0), local("2017-06-25 09:00"));
        assert_eq!(window.due(available, 7), local("2017-07-01 09:00"));
    }

    #[test]
    fn inside_the_window_a_notice_is_due_at_once_and_reminders_at_the_same_time() {
        let window = oslo((9, 17));
        let available = local("2017-06-24 12:15");
        assert_eq!(window.due(available, 0), available);
        assert_eq!(window.due(available, 7), local("2017-07-01 12:15"));
    }

    #[test]
    fn early_morning_letters_wait_for_the_same_days_opening() {
        let window = oslo((9, 17));
        let available = local("2017-06-24 06:10");
        assert_eq!(window.due(available, 0), local("2017-06-24 09:00"));
        assert_eq!(window.due(available, 3), local("2017-06-27 09:00"));
    }

    #[test]
    fn the_window_is_kept_in_local_time_across_daylight_saving_changes() {
        let window = oslo((9, 17));
        // Saturday before summer time starts (26.03.2017, 02:00 → 03:00).
        let available = local("2017-03-25 12:00");
        let reminder = window.due(available, 1);
        assert_eq!(reminder, local("2017-03-26 12:00"));
        assert_eq!(reminder - available, chrono::Duration::hours(23));
        // And when it ends (29.10.2017, 03:00 → 02:00): a 25-hour day.
        let evening = local("2017-10-28 22:00");
        assert_eq!(window.due(evening, 0), local("2017-10-29 09:00"));
        let noon = local("2017-10-28 12:00");
        assert_eq!(window.due(noon, 1) - noon, chrono::Duration::hours(25));
    }

    #[test]
    fn a_window_opening_in_the_spring_gap_opens_after_it() {
        let window = oslo((2, 17));
        // 02:30 does not exist on 26.03.2017 in Oslo; 03:00 CEST is 01:00 UTC.
        let due = window.due(local("2017-03-25 20:00"), 0);
        assert_eq!(due, Utc.with_ymd_and_hms(2017, 3, 26, 1, 0, 0).unwrap());
        assert!(window.contains(due));
    }

    #[test]
    fn a_window_must_open_before_it_closes() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert!(DayWindow::new(chrono_tz::Europe::Oslo, nine, nine).is_err());
    }
}
