//! The short code printed on every paper letter, which a citizen types (or
//! scans) at Postkasse's public check page to see that the letter really
//! came through Postkasse, and from whom.
//!
//! Ten characters of Crockford's base 32 (50 random bits), shown as two
//! groups of five. The alphabet leaves out I, L, O and U, and reading
//! forgives what people mistype: lower case, spaces, dashes, O for 0 and I
//! or L for 1. With guessing rate-limited, 2^50 codes cannot be searched.

use rand::Rng;
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const LENGTH: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a check code is {LENGTH} letters and digits, like 7K3QD-M9X2P")]
pub struct NotACode;

impl VerificationCode {
    pub fn generate() -> VerificationCode {
        let mut rng = rand::thread_rng();
        VerificationCode(
            (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect(),
        )
    }

    /// Reads a code as a person types it.
    pub fn parse(input: &str) -> Result<VerificationCode, NotACode> {
        let mut code = String::with_capacity(LENGTH);
        for character in input.chars() {
            let character = match character.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !character.is_ascii() || !ALPHABET.contains(&(character as u8)) {
                return Err(NotACode);
            }
            code.push(character);
        }
        if code.len() != LENGTH {
            return Err(NotACode);
        }
        Ok(VerificationCode(code))
    }

    /// As stored: ten characters, no dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// As printed: `7K3QD-M9X2P`.
impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = self.0.split_at(LENGTH / 2);
        write!(f, "{first}-{second}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_reads_back_as_printed_and_as_typed() {
        let code = VerificationCode::generate();
        assert_eq!(VerificationCode::parse(&code.to_string()), Ok(code.clone()));
        let typed = code.to_string().to_lowercase().replace('-', " ");
        assert_eq!(VerificationCode::parse(&typed), Ok(code));
    }

    #[test]
    fn mistaken_letters_are_forgiven_and_nonsense_refused() {
        assert_eq!(
            VerificationCode::parse("o1lI2-34567").unwrap().as_str(),
            "0111234567"
        );
        assert_eq!(VerificationCode::parse("7K3QD-M9X2"), Err(NotACode));
        assert_eq!(VerificationCode::parse("7K3QD-M9X2PU"), Err(NotACode));
        assert_eq!(VerificationCode::parse("7K3QD-M9X2Å"), Err(NotACode));
    }

    #[test]
    fn codes_differ() {
        assert_ne!(VerificationCode::generate(), VerificationCode::generate());
    }
}
