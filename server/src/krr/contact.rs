//! Contact details as KRR keeps them: an e-mail address and a mobile number,
//! each checked once where it enters (self-service or import).

use serde::Serialize;
use std::fmt;

/// Why a contact detail was refused, in words a citizen can act on (bokmål,
/// since these are shown beside the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("mangler")]
    Missing,
    #[error("er ikke en gyldig e-postadresse (eksempel: navn@eksempel.no)")]
    InvalidEmail,
    #[error("er ikke et gyldig mobilnummer (eksempel: 912 34 567 eller +46 70 123 45 67)")]
    InvalidMobile,
    #[error("er et fasttelefonnummer; varsler på SMS krever et mobilnummer")]
    NotMobile,
}

/// An e-mail address in the syntax of RFC 5322's addr-spec, with a domain
/// that has at least one dot (mail to `kari@localhost` would not reach her).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, ContactError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ContactError::Missing);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            input,
            email_address::Options::default()
                .with_required_tld()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| ContactError::InvalidEmail)?;
        if parsed.domain().ends_with('.') {
            return Err(ContactError::InvalidEmail);
        }
        Ok(EmailAddress(parsed.as_str().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Contact details are personal data: keep them out of debug output and logs.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

/// A mobile number in E.164 form (`+4791234567`). Norwegian numbers may be
/// written without the country code; other countries need `+` or `00`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(input: &str) -> Result<MobileNumber, ContactError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')'))
            .collect();
        if compact.is_empty() {
            return Err(ContactError::Missing);
        }
        // Letters would be read as a keypad spells them; citizens mean digits.
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ContactError::InvalidMobile);
        }
        let international = match compact.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => compact,
        };
        let number = phonenumber::parse(Some(phonenumber::country::Id::NO), &international)
            .map_err(|_| ContactError::InvalidMobile)?;
        if !number.is_valid() {
            return Err(ContactError::InvalidMobile);
        }
        use phonenumber::Type;
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => {}
            Type::FixedLine => return Err(ContactError::NotMobile),
            _ => return Err(ContactError::InvalidMobile),
        }
        Ok(MobileNumber(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MobileNumber(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_and_trimmed() {
        for address in [
            "kari@example.no",
            " ola.nordmann+post@sub.eksempel.no ",
            "æøå@eksempel.no",
        ] {
            let parsed = EmailAddress::parse(address).unwrap();
            assert_eq!(parsed.as_str(), address.trim());
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for address in [
            "kari",
            "kari@",
            "@example.no",
            "kari@localhost",
            "kari@@example.no",
            "kari nordmann@example.no",
            "Kari <kari@example.no>",
            "kari@[127.0.0.1]",
            "kari@example.",
        ] {
            assert_eq!(
                EmailAddress::parse(address),
                Err(ContactError::InvalidEmail),
                "{address:?}"
            );
        }
        assert_eq!(EmailAddress::parse("  "), Err(ContactError::Missing));
    }

    #[test]
    fn norwegian_mobile_numbers_in_every_usual_spelling() {
        for spelling in [
            "91234567",
            "912 34 567",
            "+47 912 34 567",
            "0047 91234567",
            "912-34-567",
        ] {
            let expected = "+4791234567";
            assert_eq!(
                MobileNumber::parse(spelling).unwrap().as_str(),
                expected,
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn numbers_starting_with_4_are_mobile_too() {
        for spelling in ["41234567", "48123456", "40000123"] {
            assert_eq!(
                MobileNumber::parse(spelling).map(|m| m.as_str().to_owned()),
                Ok(format!("+47{spelling}")),
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn international_mobile_numbers_need_their_country_code() {
        assert_eq!(
            MobileNumber::parse("+46 70 123 45 67").unwrap().as_str(),
            "+46701234567"
        );
        assert_eq!(
            MobileNumber::parse("+44 7911 123456").unwrap().as_str(),
            "+447911123456"
        );
    }

    #[test]
    fn landlines_and_nonsense_are_refused() {
        assert_eq!(
            MobileNumber::parse("22 12 34 56"),
            Err(ContactError::NotMobile)
        );
        for input in [
            "1234",
            "9123456",
            "912345678",
            "abc",
            "+47 912 34 56a",
            "+999 1234567",
        ] {
            assert!(MobileNumber::parse(input).is_err(), "{input:?}");
        }
        assert_eq!(MobileNumber::parse(" "), Err(ContactError::Missing));
    }

    #[test]
    fn debug_output_hides_the_value() {
        let email = EmailAddress::parse("kari@example.no").unwrap();
        let mobile = MobileNumber::parse("91234567").unwrap();
        assert!(!format!("{email:?}{mobile:?}").contains("kari"));
        assert!(!format!("{mobile:?}").contains("912"));
    }
}
