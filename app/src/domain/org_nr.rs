//! The Norwegian organisation number (organisasjonsnummer) from
//! Brønnøysundregistrene's Enhetsregisteret.
//!
//! It has 9 digits, the last a mod-11 control digit over the first eight
//! with the weights `[3, 2, 7, 6, 5, 4, 3, 2]`: the control digit is
//! `11 - (sum mod 11)`, where 11 becomes 0 and 10 means the number is
//! invalid.
//!
//! In digital post (DPI) and the other PEPPOL-style message flows an
//! organisation is addressed as an ISO 6523 participant id with the
//! authority `iso6523-actorid-upis`, written `0192:<orgnr>` (0192 being the
//! ICD of Enhetsregisteret). [`OrgNr::parse_iso6523`] and
//! [`OrgNr::to_iso6523`] convert to and from that form.
//!
//! Organisation numbers are public information, so unlike
//! [`Fnr`](super::national_id::Fnr) an `OrgNr` has `Display` and `Debug`
//! that show the number, and can be deserialized (through
//! [`OrgNr::parse`]).

use std::fmt;

/// Weights for the control digit, over digits 1–8.
const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// The ISO 6523 ICD prefix for Norwegian organisation numbers.
const ISO6523_PREFIX: &str = "0192:";

/// A validated organisation number: always exactly 9 ASCII digits with a
/// correct control digit.
#[derive(
    Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNr(String);

/// Why a string is not a valid organisation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNrError {
    /// Not 9 characters (after trimming surrounding whitespace).
    #[error("must be exactly 9 digits")]
    WrongLength,
    /// 9 characters, but not all of them ASCII digits.
    #[error("must contain only digits")]
    NotDigits,
    /// The last digit does not match the mod-11 control digit.
    #[error("has a wrong control digit")]
    InvalidControlDigit,
    /// An ISO 6523 participant id with another authority than `0192:`.
    #[error("must start with the authority prefix 0192:")]
    WrongAuthority,
}

impl OrgNr {
    /// Parses and validates an organisation number.
    ///
    /// Surrounding whitespace is trimmed; internal spaces (as in
    /// "974 760 673") are refused.
    pub fn parse(input: &str) -> Result<OrgNr, OrgNrError> {
        parse_digits(input.trim())
    }

    /// Parses an ISO 6523 participant id, `0192:<orgnr>`, as used in DPI
    /// (authority `iso6523-actorid-upis`). Any other prefix, or none, gives
    /// [`OrgNrError::WrongAuthority`].
    ///
    /// Whitespace around the whole id is trimmed, but not between the
    /// prefix and the number.
    pub fn parse_iso6523(input: &str) -> Result<OrgNr, OrgNrError> {
        let number = input
            .trim()
            .strip_prefix(ISO6523_PREFIX)
            .ok_or(OrgNrError::WrongAuthority)?;
        parse_digits(number)
    }

    /// The 9 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 6523 participant id, `0192:<orgnr>`.
    pub fn to_iso6523(&self) -> String {
        format!("{ISO6523_PREFIX}{}", self.0)
    }
}

/// Validates `s` as it stands (no trimming).
fn parse_digits(s: &str) -> Result<OrgNr, OrgNrError> {
    if s.chars().count() != 9 {
        return Err(OrgNrError::WrongLength);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OrgNrError::NotDigits);
    }
    let digits: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits[..8].iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let control = match 11 - sum % 11 {
        11 => 0,
        10 => return Err(OrgNrError::InvalidControlDigit),
        k => k,
    };
    if digits[8] != control {
        return Err(OrgNrError::InvalidControlDigit);
    }
    Ok(OrgNr(s.to_owned()))
}

impl fmt::Display for OrgNr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrgNr {
    type Error = OrgNrError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrgNr::parse(&value)
    }
}

impl From<OrgNr> for String {
    fn from(value: OrgNr) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;
    use serde::Deserialize;

    /// The control digit straight from the published rule, kept apart from
    /// the code under test: `None` when it comes out as 10.
    fn check(first_eight: &str) -> Option<char> {
        let sum: u32 = first_eight
            .chars()
            .zip([3, 2, 7, 6, 5, 4, 3, 2])
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        match (11 - sum % 11) % 11 {
            10 => None,
            k => char::from_digit(k, 10),
        }
    }

    /// `first_eight` with its control digit, or `None` when there is none.
    fn with_control(first_eight: &str) -> Option<String> {
        Some(format!("{first_eight}{}", check(first_eight)?))
    }

    /// The number with its last digit changed to a wrong one.
    fn with_wrong_control(valid: &str) -> String {
        let (head, last) = valid.split_at(8);
        let last = if last == "0" { '1' } else { '0' };
        format!("{head}{last}")
    }

    fn deserialize(s: &str) -> Result<OrgNr, DeError> {
        OrgNr::deserialize(StrDeserializer::<DeError>::new(s))
    }

    #[test]
    fn bronnoysundregistrenes_own_number_is_valid() {
        // 9 7 4 7 6 0 6 7 · [3 2 7 6 5 4 3 2] = 27+14+28+42+30+0+18+14 = 173;
        // 173 mod 11 = 8, control 3.
        assert_eq!(OrgNr::parse("974760673").unwrap().as_str(), "974760673");
    }

    #[test]
    fn digdirs_number_is_valid() {
        // 9 9 1 8 2 5 8 2 · weights = 27+18+7+48+10+20+24+4 = 158;
        // 158 mod 11 = 4, control 7.
        assert!(OrgNr::parse("991825827").is_ok());
    }

    #[test]
    fn the_numbers_used_in_the_dpi_documentation_are_valid() {
        // e-Boks: 9 2 2 0 2 0 1 7 · weights = 27+4+14+0+10+0+3+14 = 72;
        // 72 mod 11 = 6, control 5.
        assert!(OrgNr::parse("922020175").is_ok());
        // Posten: 9 8 4 6 6 1 1 8 · weights = 27+16+28+36+30+4+3+16 = 160;
        // 160 mod 11 = 6, control 5.
        assert!(OrgNr::parse("984661185").is_ok());
    }

    #[test]
    fn the_test_helper_agrees_with_the_hand_checked_numbers() {
        for n in ["974760673", "991825827", "922020175", "984661185"] {
            assert_eq!(with_control(&n[..8]).as_deref(), Some(n));
        }
    }

    #[test]
    fn numbers_built_by_the_test_helper_are_valid() {
        for head in ["91000000", "81234567", "99999999", "12345678"] {
            if let Some(n) = with_control(head) {
                assert_eq!(OrgNr::parse(&n).unwrap().as_str(), n);
            }
        }
    }

    #[test]
    fn a_control_digit_of_0_is_valid_when_the_sum_divides_by_11() {
        let n = (10_000_000u32..)
            .map(|h| h.to_string())
            .find_map(|h| with_control(&h).filter(|n| n.ends_with('0')))
            .unwrap();
        assert!(OrgNr::parse(&n).is_ok(), "{n}");
    }

    #[test]
    fn a_wrong_control_digit_is_refused() {
        assert_eq!(
            OrgNr::parse(&with_wrong_control("974760673")),
            Err(OrgNrError::InvalidControlDigit)
        );
        assert_eq!(
            OrgNr::parse("974760674"),
            Err(OrgNrError::InvalidControlDigit)
        );
    }

    #[test]
    fn a_number_whose_control_digit_would_be_10_is_refused() {
        let head = (10_000_000u32..)
            .map(|h| h.to_string())
            .find(|h| check(h).is_none())
            .unwrap();
        for last in 0..10 {
            assert_eq!(
                OrgNr::parse(&format!("{head}{last}")),
                Err(OrgNrError::InvalidControlDigit),
                "{head}{last}"
            );
        }
    }

    #[test]
    fn eight_or_ten_digits_are_the_wrong_length() {
        assert_eq!(OrgNr::parse("97476067"), Err(OrgNrError::WrongLength));
        assert_eq!(OrgNr::parse("9747606730"), Err(OrgNrError::WrongLength));
        assert_eq!(OrgNr::parse(""), Err(OrgNrError::WrongLength));
    }

    #[test]
    fn letters_are_not_digits() {
        assert_eq!(OrgNr::parse("97476067x"), Err(OrgNrError::NotDigits));
        assert_eq!(OrgNr::parse("NO9747606"), Err(OrgNrError::NotDigits));
    }

    #[test]
    fn internal_spaces_are_not_accepted() {
        assert_eq!(OrgNr::parse("974 760 673"), Err(OrgNrError::WrongLength));
        assert_eq!(OrgNr::parse("9747 0673"), Err(OrgNrError::NotDigits));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(
            OrgNr::parse(" \t974760673\n").unwrap().as_str(),
            "974760673"
        );
    }

    #[test]
    fn display_and_debug_show_the_number() {
        let org = OrgNr::parse("974760673").unwrap();
        assert_eq!(org.to_string(), "974760673");
        assert!(format!("{org:?}").contains("974760673"));
    }

    #[test]
    fn the_iso6523_form_round_trips() {
        let org = OrgNr::parse("991825827").unwrap();
        assert_eq!(org.to_iso6523(), "0192:991825827");
        assert_eq!(OrgNr::parse_iso6523(&org.to_iso6523()), Ok(org));
        assert_eq!(
            OrgNr::parse_iso6523("  0192:974760673 ").unwrap().as_str(),
            "974760673"
        );
    }

    #[test]
    fn the_iso6523_form_still_checks_the_number() {
        assert_eq!(
            OrgNr::parse_iso6523("0192:974760674"),
            Err(OrgNrError::InvalidControlDigit)
        );
        assert_eq!(
            OrgNr::parse_iso6523("0192:97476067"),
            Err(OrgNrError::WrongLength)
        );
        assert_eq!(
            OrgNr::parse_iso6523("0192: 974760673"),
            Err(OrgNrError::WrongLength)
        );
    }

    #[test]
    fn another_authority_is_refused() {
        for id in [
            "9908:974760673",
            "0088:974760673",
            "974760673",
            "0192974760673",
            "0192-974760673",
            "",
        ] {
            assert_eq!(
                OrgNr::parse_iso6523(id),
                Err(OrgNrError::WrongAuthority),
                "{id}"
            );
        }
    }

    #[test]
    fn serde_round_trips_through_a_plain_string() {
        let org = OrgNr::parse("922020175").unwrap();
        let as_string: String = org.clone().into();
        assert_eq!(as_string, "922020175");
        assert_eq!(deserialize(&as_string).unwrap(), org);
        let via_into: Result<OrgNr, DeError> = OrgNr::deserialize(as_string.into_deserializer());
        assert_eq!(via_into.unwrap(), org);
    }

    #[test]
    fn serde_refuses_an_invalid_number() {
        let err = deserialize("974760674").unwrap_err();
        assert_eq!(err.to_string(), "has a wrong control digit");
        assert!(deserialize("abc").is_err());
    }

    #[test]
    fn try_from_string_goes_through_parse() {
        assert_eq!(
            OrgNr::try_from(String::from("984661185")),
            OrgNr::parse("984661185")
        );
        assert_eq!(
            OrgNr::try_from(String::from("98466118")),
            Err(OrgNrError::WrongLength)
        );
    }

    #[test]
    fn error_messages_are_short_lowercase_phrases() {
        assert_eq!(
            OrgNrError::WrongLength.to_string(),
            "must be exactly 9 digits"
        );
        assert_eq!(
            OrgNrError::NotDigits.to_string(),
            "must contain only digits"
        );
        assert_eq!(
            OrgNrError::InvalidControlDigit.to_string(),
            "has a wrong control digit"
        );
        assert_eq!(
            OrgNrError::WrongAuthority.to_string(),
            "must start with the authority prefix 0192:"
        );
    }
}
