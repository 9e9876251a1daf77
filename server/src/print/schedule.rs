//! The cut-off times, Norwegian wall-clock times at which waiting letters
//! go into batches (the print houses' daily deadlines, e.g. 17:00).
//!
//! The rule is stateless, so a node that was down at a cut-off catches up
//! when it starts: letters that arrived before the latest cut-off and still
//! wait are batched now.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Oslo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutOffs(Vec<NaiveTime>);

#[derive(Debug, thiserror::Error)]
#[error("print.cut_offs: {0:?} is not a time of day like 17:00")]
pub struct BadCutOff(String);

impl CutOffs {
    /// Times written `HH:MM`.
    pub fn parse(times: &[String]) -> Result<CutOffs, BadCutOff> {
        times
            .iter()
            .map(|time| {
                NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| BadCutOff(time.clone()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(CutOffs)
    }

    /// The latest cut-off at or before `now`, if any is configured.
    pub fn latest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&Oslo).date_naive();
        [today, today - Duration::days(1)]
            .into_iter()
            .flat_map(|day| {
                self.0.iter().filter_map(move |time| {
                    // On the night clocks go forward a time may not exist;
                    // on the night they go back, it exists twice: the first.
                    Oslo.from_local_datetime(&day.and_time(*time))
                        .earliest()
                        .map(|at| at.with_timezone(&Utc))
                })
            })
            .filter(|at| *at <= now)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_latest_cut_off_is_found_in_norwegian_time() {
        let cut_offs = CutOffs::parse(&["17:00".into(), "09:30".into()]).unwrap();
        // 17:00 in Oslo is 16:00 UTC in winter.
        assert_eq!(
            cut_offs.latest(at("2026-12-07T16:30:00Z")),
            Some(at("2026-12-07T16:00:00Z"))
        );
        assert_eq!(
            cut_offs.latest(at("2026-12-07T15:59:00Z")),
            Some(at("2026-12-07T08:30:00Z"))
        );
        // Before the morning's cut-off: yesterday's evening one.
        assert_eq!(
            cut_offs.latest(at("2026-12-07T07:00:00Z")),
            Some(at("2026-12-06T16:00:00Z"))
        );
        // In summer, 17:00 is 15:00 UTC.
        assert_eq!(
            cut_offs.latest(at("2026-06-01T15:00:00Z")),
            Some(at("2026-06-01T15:00:00Z"))
        );
    }

    #[test]
    fn no_cut_offs_batch_nothing_and_bad_times_are_named() {
        assert_eq!(CutOffs::parse(&[]).unwrap().latest(Utc::now()), None);
        assert!(CutOffs::parse(&["25:00".into()])
            .unwrap_err()
            .to_string()
            .contains("25:00"));
    }
}
