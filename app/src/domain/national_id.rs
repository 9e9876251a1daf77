//! The Norwegian national identity number: fødselsnummer and D-number.
//!
//! A fødselsnummer has 11 digits: `DDMMYY`, then a 3-digit individnummer,
//! then two control digits. The individnummer together with the two-digit
//! year tells which century the person was born in.
//!
//! A D-number is given to people who are not (yet) registered as residents.
//! It has the same layout, except that 40 is added to the day of birth
//! (so the first digit is 4–7).
//!
//! Both use two mod-11 control digits: the first is computed over digits 1–9
//! with the weights `[3, 7, 6, 1, 8, 9, 4, 5, 2]`, the second over digits
//! 1–10 with the weights `[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]`. The control digit
//! is `11 - (sum mod 11)`, where 11 becomes 0 and 10 means that no valid
//! number exists with those digits.
//!
//! Skatteetaten hands out synthetic test numbers ("syntetiske
//! fødselsnumre", e.g. in Tenor) that add 80 to the month. They are valid in
//! every other respect, so they would pass as real numbers in a system that
//! does not look for them. [`Fnr::parse`] accepts them only when the caller's
//! settings say so ([`SyntheticIds::Accepted`]); production must refuse them.
//!
//! A number is never written to logs: [`Fnr`]'s `Debug` prints a mask, and
//! it deliberately has no `Display`.
//
// Not handled yet: from 2032 Skatteetaten changes the number format (the
// control digits are freed up, and the individnummer no longer tells the
// century). Numbers in the new format will be refused here until this module
// learns the new rules.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// Weights for the first control digit, over digits 1–9.
const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
/// Weights for the second control digit, over digits 1–10.
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// A validated Norwegian national identity number (fødselsnummer or
/// D-number): always exactly 11 ASCII digits.
///
/// The only way to get one is [`Fnr::parse`] (or [`Fnr::synthetic`] for test
/// data), so holding an `Fnr` means the number has a valid date and valid
/// control digits. It serializes as the plain string but cannot be
/// deserialized: incoming numbers must go through `parse` with the caller's
/// [`SyntheticIds`] policy.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fnr(String);

/// Whether an [`Fnr`] is an ordinary fødselsnummer or a D-number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnrKind {
    /// An ordinary fødselsnummer (day 1–31).
    Fodselsnummer,
    /// A D-number (day + 40, so 41–71).
    DNumber,
}

/// Whether synthetic test numbers (month + 80) are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyntheticIds {
    /// Synthetic numbers are rejected with [`FnrError::SyntheticNotAllowed`].
    /// The default, and the only sensible setting in production.
    #[default]
    Refused,
    /// Synthetic numbers are accepted (test and demo environments).
    Accepted,
}

/// Why a string is not an acceptable national identity number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FnrError {
    /// Not 11 characters after trimming surrounding whitespace.
    #[error("must be exactly 11 digits")]
    WrongLength,
    /// 11 characters, but not all of them ASCII digits.
    #[error("must contain only digits")]
    NotDigits,
    /// The day, month, year and individnummer do not make a real date.
    #[error("does not contain a valid date")]
    InvalidDate,
    /// One of the two control digits is wrong.
    #[error("has wrong control digits")]
    InvalidControlDigits,
    /// A well-formed synthetic test number where they are not allowed.
    #[error("synthetic test numbers are not accepted here")]
    SyntheticNotAllowed,
    /// A birth date after today: nobody with this number is born yet.
    #[error("has a birth date in the future")]
    BornInTheFuture,
}

/// What the first nine digits say about the number.
struct Decoded {
    birth_date: NaiveDate,
    kind: FnrKind,
    synthetic: bool,
}

impl Fnr {
    /// Parses and validates a national identity number.
    ///
    /// Surrounding whitespace is trimmed; anything else that is not one of
    /// the 11 digits (internal spaces, dots, dashes) is refused. The checks
    /// run in this order: length, digits, date, control digits, synthetic
    /// policy — so a well-formed synthetic number given
    /// [`SyntheticIds::Refused`] fails with
    /// [`FnrError::SyntheticNotAllowed`].
    pub fn parse(input: &str, synthetic: SyntheticIds) -> Result<Fnr, FnrError> {
        let s = input.trim();
        if s.chars().count() != 11 {
            return Err(FnrError::WrongLength);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FnrError::NotDigits);
        }
        let digits = to_digits(s);
        let decoded = decode(&digits)?;
        if control_digits(&digits[..9]) != Some((digits[9], digits[10])) {
            return Err(FnrError::InvalidControlDigits);
        }
        if decoded.synthetic && synthetic == SyntheticIds::Refused {
            return Err(FnrError::SyntheticNotAllowed);
        }
        Ok(Fnr(s.to_owned()))
    }

    /// [`Fnr::parse`], and a birth date after `today` (the Norwegian date
    /// where the number comes in) refused: no such person is born yet. The
    /// caller gives the date, so the check runs on its clock; numbers read
    /// back from storage were checked on their way in and take `parse`.
    pub fn parse_on(
        input: &str,
        synthetic: SyntheticIds,
        today: NaiveDate,
    ) -> Result<Fnr, FnrError> {
        let fnr = Fnr::parse(input, synthetic)?;
        if fnr.birth_date() > today {
            return Err(FnrError::BornInTheFuture);
        }
        Ok(fnr)
    }

    /// The 11 digits. Handle with care: this is personal data and must not
    /// be logged.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a fødselsnummer or a D-number.
    pub fn kind(&self) -> FnrKind {
        self.decoded().kind
    }

    /// Whether this is one of Skatteetaten's synthetic test numbers
    /// (month + 80).
    pub fn is_synthetic(&self) -> bool {
        self.decoded().synthetic
    }

    /// The date of birth the number encodes (with the D-number and
    /// synthetic offsets removed).
    pub fn birth_date(&self) -> NaiveDate {
        self.decoded().birth_date
    }

    /// Builds a valid synthetic fødselsnummer (month + 80) for demo data and
    /// tests.
    ///
    /// Returns `None` when `individual_number` is greater than 999, when it
    /// gives a control digit of 10 (no valid number exists with those first
    /// nine digits; try the next individual number), or when it does not
    /// belong to the century of `birth_date` (e.g. 000–499 are only used
    /// for 1900–1999), since the number would then not encode `birth_date`.
    pub fn synthetic(birth_date: NaiveDate, individual_number: u16) -> Option<Fnr> {
        if individual_number > 999 {
            return None;
        }
        let mut s = format!(
            "{:02}{:02}{:02}{:03}",
            birth_date.day(),
            birth_date.month() + 80,
            birth_date.year().rem_euclid(100),
            individual_number
        );
        let (k1, k2) = control_digits(&to_digits(&s)[..9])?;
        s.push(char::from(b'0' + k1));
        s.push(char::from(b'0' + k2));
        let fnr = Fnr::parse(&s, SyntheticIds::Accepted).ok()?;
        (fnr.birth_date() == birth_date).then_some(fnr)
    }

    /// Decodes the stored number, which was validated on construction.
    fn decoded(&self) -> Decoded {
        decode(&to_digits(&self.0)).expect("an Fnr is validated when it is constructed")
    }
}

impl fmt::Debug for Fnr {
    /// Never prints the number: national ids must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fnr(***********)")
    }
}

impl serde::Serialize for Fnr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// The values of the (up to 11) ASCII digits in `s`; the caller has checked
/// that `s` holds only ASCII digits.
fn to_digits(s: &str) -> [u8; 11] {
    let mut digits = [0u8; 11];
    for (slot, b) in digits.iter_mut().zip(s.bytes()) {
        *slot = b - b'0';
    }
    digits
}

/// One mod-11 control digit; `None` when it would be 10.
fn control_digit(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => u8::try_from(k).ok(),
    }
}

/// Both control digits for the first nine digits; `None` when either would
/// be 10.
fn control_digits(first_nine: &[u8]) -> Option<(u8, u8)> {
    let k1 = control_digit(first_nine, &K1_WEIGHTS)?;
    let mut first_ten = [0u8; 10];
    first_ten[..9].copy_from_slice(first_nine);
    first_ten[9] = k1;
    let k2 = control_digit(&first_ten, &K2_WEIGHTS)?;
    Some((k1, k2))
}

/// Reads the date of birth, kind and synthetic flag from the first nine
/// digits.
fn decode(d: &[u8; 11]) -> Result<Decoded, FnrError> {
    let day = u32::from(d[0]) * 10 + u32::from(d[1]);
    let month = u32::from(d[2]) * 10 + u32::from(d[3]);
    let yy = i32::from(d[4]) * 10 + i32::from(d[5]);
    let individual = u16::from(d[6]) * 100 + u16::from(d[7]) * 10 + u16::from(d[8]);

    let (day, kind) = match day {
        1..=31 => (day, FnrKind::Fodselsnummer),
        41..=71 => (day - 40, FnrKind::DNumber),
        _ => return Err(FnrError::InvalidDate),
    };
    let (month, synthetic) = match month {
        1..=12 => (month, false),
        81..=92 => (month - 80, true),
        _ => return Err(FnrError::InvalidDate),
    };
    let century = match (individual, yy) {
        (0..=499, _) => 1900,
        (500..=749, 54..=99) => 1800,
        (500..=999, 0..=39) => 2000,
        (900..=999, 40..=99) => 1900,
        _ => return Err(FnrError::InvalidDate),
    };
    let birth_date =
        NaiveDate::from_ymd_opt(century + yy, month, day).ok_or(FnrError::InvalidDate)?;
    Ok(Decoded {
        birth_date,
        kind,
        synthetic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

    /// A control digit computed straight from the published rule, kept apart
    /// from the code under test: `None` when it comes out as 10.
    fn check(digits: &str, weights: &[u32]) -> Option<char> {
        let sum: u32 = digits
            .chars()
            .zip(weights)
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        match (11 - sum % 11) % 11 {
            10 => None,
            k => char::from_digit(k, 10),
        }
    }

    /// The first nine digits `DDMMYYIII` (the day and month as written in
    /// the number, offsets included).
    fn nine(day: u32, month: u32, yy: u32, individual: u32) -> String {
        format!("{day:02}{month:02}{yy:02}{individual:03}")
    }

    /// The full 11 digits with correct control digits, or `None` when no
    /// valid number exists for these first nine digits.
    fn with_controls(first_nine: &str) -> Option<String> {
        let mut s = first_nine.to_owned();
        s.push(check(&s, &K1)?);
        s.push(check(&s, &K2)?);
        Some(s)
    }

    /// The first individual number from `from` upwards that gives a valid
    /// number for this day, month and year, as the full 11 digits.
    fn valid_number(day: u32, month: u32, yy: u32, from: u32) -> String {
        (from..=999)
            .find_map(|i| with_controls(&nine(day, month, yy, i)))
            .expect("some individual number gives valid control digits")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn parse(s: &str) -> Result<Fnr, FnrError> {
        Fnr::parse(s, SyntheticIds::Refused)
    }

    #[test]
    fn a_hand_checked_number_from_1900_is_valid() {
        // 0 1 0 1 0 0 1 2 3 · [3 7 6 1 8 9 4 5 2] = 7+1+4+10+6 = 28;
        // 28 mod 11 = 6, k1 = 5.
        // 0 1 0 1 0 0 1 2 3 5 · [5 4 3 2 7 6 5 4 3 2] = 4+2+5+8+9+10 = 38;
        // 38 mod 11 = 5, k2 = 6.
        let fnr = parse("01010012356").unwrap();
        assert_eq!(fnr.as_str(), "01010012356");
        assert_eq!(fnr.birth_date(), date(1900, 1, 1));
        assert_eq!(fnr.kind(), FnrKind::Fodselsnummer);
        assert!(!fnr.is_synthetic());
    }

    #[test]
    fn the_test_helper_agrees_with_the_hand_checked_number() {
        assert_eq!(with_controls("010100123").as_deref(), Some("01010012356"));
    }

    #[test]
    fn individual_numbers_000_to_499_mean_the_1900s() {
        let n = valid_number(17, 5, 85, 0);
        assert_eq!(parse(&n).unwrap().birth_date(), date(1985, 5, 17));
        let n = valid_number(31, 12, 99, 400);
        assert_eq!(parse(&n).unwrap().birth_date(), date(1999, 12, 31));
    }

    #[test]
    fn individual_numbers_500_to_749_with_year_54_to_99_mean_the_1800s() {
        let n = valid_number(3, 7, 60, 500);
        assert_eq!(parse(&n).unwrap().birth_date(), date(1860, 7, 3));
    }

    #[test]
    fn individual_numbers_500_to_999_with_year_00_to_39_mean_the_2000s() {
        let n = valid_number(15, 8, 5, 500);
        assert_eq!(parse(&n).unwrap().birth_date(), date(2005, 8, 15));
        let n = valid_number(1, 1, 39, 950);
        assert_eq!(parse(&n).unwrap().birth_date(), date(2039, 1, 1));
    }

    #[test]
    fn individual_numbers_900_to_999_with_year_40_to_99_mean_the_1900s() {
        let n = valid_number(24, 12, 45, 900);
        assert_eq!(parse(&n).unwrap().birth_date(), date(1945, 12, 24));
    }

    #[test]
    fn individual_number_and_year_outside_every_century_rule_are_an_invalid_date() {
        // 750–899 with year 40–99 belongs to no century.
        let n = valid_number(1, 1, 60, 750);
        assert!(n[6..9].parse::<u32>().unwrap() < 900);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
        // 500–749 with year 40–53 neither.
        let n = valid_number(1, 1, 45, 600);
        assert!(n[6..9].parse::<u32>().unwrap() < 750);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn a_d_number_adds_40_to_the_day() {
        let n = valid_number(12 + 40, 3, 90, 200);
        let fnr = parse(&n).unwrap();
        assert_eq!(fnr.kind(), FnrKind::DNumber);
        assert_eq!(fnr.birth_date(), date(1990, 3, 12));
        assert!(!fnr.is_synthetic());
    }

    #[test]
    fn a_d_number_day_above_71_is_an_invalid_date() {
        let n = valid_number(72, 3, 90, 200);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn an_ordinary_number_is_a_fodselsnummer() {
        let n = valid_number(5, 6, 70, 100);
        assert_eq!(parse(&n).unwrap().kind(), FnrKind::Fodselsnummer);
    }

    #[test]
    fn a_synthetic_number_is_accepted_when_the_settings_allow_it() {
        let n = valid_number(9, 4 + 80, 88, 100);
        let fnr = Fnr::parse(&n, SyntheticIds::Accepted).unwrap();
        assert!(fnr.is_synthetic());
        assert_eq!(fnr.birth_date(), date(1988, 4, 9));
        assert_eq!(fnr.kind(), FnrKind::Fodselsnummer);
    }

    #[test]
    fn a_synthetic_number_is_refused_by_default() {
        let n = valid_number(9, 4 + 80, 88, 100);
        assert_eq!(SyntheticIds::default(), SyntheticIds::Refused);
        assert_eq!(
            Fnr::parse(&n, SyntheticIds::default()),
            Err(FnrError::SyntheticNotAllowed)
        );
    }

    #[test]
    fn a_synthetic_number_with_wrong_control_digits_reports_the_control_digits() {
        let mut n = valid_number(9, 4 + 80, 88, 100);
        let last = n.pop().unwrap();
        n.push(if last == '0' { '1' } else { '0' });
        assert_eq!(parse(&n), Err(FnrError::InvalidControlDigits));
    }

    #[test]
    fn a_synthetic_d_number_is_both_synthetic_and_a_d_number() {
        let n = valid_number(20 + 40, 11 + 80, 1, 500);
        let fnr = Fnr::parse(&n, SyntheticIds::Accepted).unwrap();
        assert!(fnr.is_synthetic());
        assert_eq!(fnr.kind(), FnrKind::DNumber);
        assert_eq!(fnr.birth_date(), date(2001, 11, 20));
    }

    #[test]
    fn the_old_month_plus_40_style_is_an_invalid_date() {
        let n = valid_number(9, 4 + 40, 88, 100);
        assert_eq!(
            Fnr::parse(&n, SyntheticIds::Accepted),
            Err(FnrError::InvalidDate)
        );
    }

    #[test]
    fn the_29th_of_february_is_valid_in_a_leap_year() {
        let n = valid_number(29, 2, 0, 500);
        assert_eq!(parse(&n).unwrap().birth_date(), date(2000, 2, 29));
        let n = valid_number(29, 2, 84, 0);
        assert_eq!(parse(&n).unwrap().birth_date(), date(1984, 2, 29));
    }

    #[test]
    fn the_29th_of_february_is_an_invalid_date_outside_a_leap_year() {
        let n = valid_number(29, 2, 23, 500);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
        // 1900 is not a leap year, 2000 is.
        let n = valid_number(29, 2, 0, 0);
        assert!(n[6..9].parse::<u32>().unwrap() < 500);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn day_32_is_an_invalid_date() {
        let n = valid_number(32, 1, 80, 100);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn day_0_is_an_invalid_date() {
        let n = valid_number(0, 1, 80, 100);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn month_13_is_an_invalid_date() {
        let n = valid_number(1, 13, 80, 100);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn the_31st_of_april_is_an_invalid_date() {
        let n = valid_number(31, 4, 80, 100);
        assert_eq!(parse(&n), Err(FnrError::InvalidDate));
    }

    #[test]
    fn a_wrong_first_control_digit_is_refused() {
        let n = valid_number(17, 5, 85, 0);
        let mut bytes = n.into_bytes();
        bytes[9] = if bytes[9] == b'9' { b'0' } else { bytes[9] + 1 };
        let n = String::from_utf8(bytes).unwrap();
        assert_eq!(parse(&n), Err(FnrError::InvalidControlDigits));
    }

    #[test]
    fn a_wrong_second_control_digit_is_refused() {
        let n = valid_number(17, 5, 85, 0);
        let mut bytes = n.into_bytes();
        bytes[10] = if bytes[10] == b'9' {
            b'0'
        } else {
            bytes[10] + 1
        };
        let n = String::from_utf8(bytes).unwrap();
        assert_eq!(parse(&n), Err(FnrError::InvalidControlDigits));
    }

    #[test]
    fn a_first_control_digit_of_10_is_refused_whatever_follows() {
        let first_nine = (0..=499)
            .map(|i| nine(17, 5, 85, i))
            .find(|s| check(s, &K1).is_none())
            .expect("some individual number gives k1 = 10");
        for tail in 0..100 {
            let n = format!("{first_nine}{tail:02}");
            assert_eq!(parse(&n), Err(FnrError::InvalidControlDigits), "{tail}");
        }
    }

    #[test]
    fn a_second_control_digit_of_10_is_refused_whatever_follows() {
        let first_ten = (0..=499)
            .map(|i| nine(17, 5, 85, i))
            .filter_map(|s| check(&s, &K1).map(|k1| format!("{s}{k1}")))
            .find(|s| check(s, &K2).is_none())
            .expect("some individual number gives k2 = 10");
        for last in 0..10 {
            let n = format!("{first_ten}{last}");
            assert_eq!(parse(&n), Err(FnrError::InvalidControlDigits), "{last}");
        }
    }

    #[test]
    fn ten_digits_are_the_wrong_length() {
        assert_eq!(parse("0101001235"), Err(FnrError::WrongLength));
    }

    #[test]
    fn twelve_digits_are_the_wrong_length() {
        assert_eq!(parse("010100123560"), Err(FnrError::WrongLength));
    }

    #[test]
    fn an_empty_string_is_the_wrong_length() {
        assert_eq!(parse(""), Err(FnrError::WrongLength));
        assert_eq!(parse("   "), Err(FnrError::WrongLength));
    }

    #[test]
    fn letters_are_not_digits() {
        assert_eq!(parse("0101001235a"), Err(FnrError::NotDigits));
        assert_eq!(parse("abcdefghijk"), Err(FnrError::NotDigits));
    }

    #[test]
    fn non_ascii_digits_are_not_digits() {
        // Eleven characters, one of them an Arabic-Indic digit (two bytes).
        assert_eq!(parse("0101001235\u{0666}"), Err(FnrError::NotDigits));
    }

    #[test]
    fn an_internal_space_is_not_accepted() {
        assert_eq!(parse("010100 2356"), Err(FnrError::NotDigits));
        assert_eq!(parse("010100 12356"), Err(FnrError::WrongLength));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        let fnr = parse("  \t01010012356\n ").unwrap();
        assert_eq!(fnr.as_str(), "01010012356");
        assert_eq!(fnr, parse("01010012356").unwrap());
    }

    #[test]
    fn debug_does_not_print_the_number() {
        let fnr = parse("01010012356").unwrap();
        let debug = format!("{fnr:?}");
        assert_eq!(debug, "Fnr(***********)");
        assert!(!debug.chars().any(|c| c.is_ascii_digit()));
        let nested = format!("{:?}", Some(&fnr));
        assert!(!nested.contains("01010012356"));
    }

    #[test]
    fn synthetic_round_trips_through_parse() {
        let born = date(1985, 5, 17);
        let fnr = (0..=499)
            .find_map(|i| Fnr::synthetic(born, i))
            .expect("some individual number gives a valid number");
        assert!(fnr.is_synthetic());
        assert_eq!(fnr.birth_date(), born);
        assert_eq!(fnr.kind(), FnrKind::Fodselsnummer);
        assert_eq!(&fnr.as_str()[2..4], "85");
        let reparsed = Fnr::parse(fnr.as_str(), SyntheticIds::Accepted).unwrap();
        assert_eq!(reparsed, fnr);
        assert_eq!(
            Fnr::parse(fnr.as_str(), SyntheticIds::Refused),
            Err(FnrError::SyntheticNotAllowed)
        );
    }

    #[test]
    fn synthetic_matches_the_test_helper() {
        let born = date(2012, 10, 3);
        for i in 500..=999u16 {
            let expected = with_controls(&nine(3, 90, 12, u32::from(i)));
            let built = Fnr::synthetic(born, i).map(|f| f.as_str().to_owned());
            assert_eq!(built, expected, "individual number {i}");
        }
    }

    #[test]
    fn synthetic_gives_none_when_a_control_digit_would_be_10() {
        let born = date(1985, 5, 17);
        let i = (0..=499u16)
            .find(|&i| with_controls(&nine(17, 85, 85, u32::from(i))).is_none())
            .expect("some individual number has no valid control digits");
        assert_eq!(Fnr::synthetic(born, i), None);
    }

    #[test]
    fn synthetic_gives_none_for_an_individual_number_above_999() {
        assert_eq!(Fnr::synthetic(date(1985, 5, 17), 1000), None);
    }

    #[test]
    fn synthetic_gives_none_when_the_individual_number_is_from_another_century() {
        // 000–499 only ever mean 1900–1999.
        let born = date(2010, 6, 1);
        assert!((0..=499).all(|i| Fnr::synthetic(born, i).is_none()));
    }

    #[test]
    fn error_messages_are_short_lowercase_phrases() {
        assert_eq!(
            FnrError::WrongLength.to_string(),
            "must be exactly 11 digits"
        );
        assert_eq!(FnrError::NotDigits.to_string(), "must contain only digits");
        assert_eq!(
            FnrError::InvalidDate.to_string(),
            "does not contain a valid date"
        );
        assert_eq!(
            FnrError::InvalidControlDigits.to_string(),
            "has wrong control digits"
        );
        assert_eq!(
            FnrError::SyntheticNotAllowed.to_string(),
            "synthetic test numbers are not accepted here"
        );
    }

    #[test]
    fn a_birth_date_after_today_is_refused_and_today_is_not() {
        let born = NaiveDate::from_ymd_opt(2035, 1, 1).unwrap();
        let future = (500..1000)
            .find_map(|individual| Fnr::synthetic(born, individual))
            .expect("a synthetic number born 1 Jan 2035");
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            Fnr::parse_on(future.as_str(), SyntheticIds::Accepted, today),
            Err(FnrError::BornInTheFuture)
        );
        assert!(Fnr::parse(future.as_str(), SyntheticIds::Accepted).is_ok());
        assert!(Fnr::parse_on(future.as_str(), SyntheticIds::Accepted, born).is_ok());
    }
}
