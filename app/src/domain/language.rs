//! The language a citizen prefers for letters and notices (KRR `spraak`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The languages KRR records: bokmål, nynorsk, English and Northern Sami.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Language {
    Bokmaal,
    Nynorsk,
    English,
    Sami,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of nb, nn, en or se")]
pub struct LanguageError;

impl Language {
    pub const ALL: [Language; 4] = [
        Language::Bokmaal,
        Language::Nynorsk,
        Language::English,
        Language::Sami,
    ];

    /// The code KRR uses (ISO 639-1).
    pub fn code(self) -> &'static str {
        match self {
            Language::Bokmaal => "nb",
            Language::Nynorsk => "nn",
            Language::English => "en",
            Language::Sami => "se",
        }
    }

    /// The language's name in itself, as a language picker shows it.
    pub fn endonym(self) -> &'static str {
        match self {
            Language::Bokmaal => "Norsk bokmål",
            Language::Nynorsk => "Norsk nynorsk",
            Language::English => "English",
            Language::Sami => "Davvisámegiella",
        }
    }

    pub fn parse(code: &str) -> Result<Language, LanguageError> {
        let code = code.trim();
        Language::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(code))
            .ok_or(LanguageError)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Language {
    type Error = LanguageError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Language::parse(&code)
    }
}

impl From<Language> for String {
    fn from(language: Language) -> String {
        language.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_ignore_case() {
        for language in Language::ALL {
            assert_eq!(Language::parse(language.code()), Ok(language));
        }
        assert_eq!(Language::parse(" EN "), Ok(Language::English));
    }

    #[test]
    fn unknown_codes_are_refused() {
        for code in ["", "no", "sv", "nob", "e"] {
            assert_eq!(Language::parse(code), Err(LanguageError), "{code:?}");
        }
    }
}
