//! The security level a letter demands of the reader's login (`sikkerhetsnivaa`).
//!
//! DPI allows 3 and 4. Level 3 is ID-porten's `idporten-loa-substantial` (MinID),
//! level 4 is `idporten-loa-high` (BankID, Buypass, Commfides).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum SecurityLevel {
    Substantial = 3,
    High = 4,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 3 or 4")]
pub struct SecurityLevelError;

impl SecurityLevel {
    pub fn as_number(self) -> u8 {
        self as u8
    }

    /// The ID-porten `acr` value a login must have to read at this level.
    pub fn acr(self) -> &'static str {
        match self {
            SecurityLevel::Substantial => "idporten-loa-substantial",
            SecurityLevel::High => "idporten-loa-high",
        }
    }
}

impl TryFrom<u8> for SecurityLevel {
    type Error = SecurityLevelError;

    fn try_from(number: u8) -> Result<Self, Self::Error> {
        match number {
            3 => Ok(SecurityLevel::Substantial),
            4 => Ok(SecurityLevel::High),
            _ => Err(SecurityLevelError),
        }
    }
}

impl TryFrom<i64> for SecurityLevel {
    type Error = SecurityLevelError;

    fn try_from(number: i64) -> Result<Self, Self::Error> {
        u8::try_from(number)
            .map_err(|_| SecurityLevelError)?
            .try_into()
    }
}

impl From<SecurityLevel> for u8 {
    fn from(level: SecurityLevel) -> u8 {
        level.as_number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_three_and_four_are_levels() {
        assert_eq!(SecurityLevel::try_from(3u8), Ok(SecurityLevel::Substantial));
        assert_eq!(SecurityLevel::try_from(4u8), Ok(SecurityLevel::High));
        for number in [0u8, 1, 2, 5, 255] {
            assert_eq!(SecurityLevel::try_from(number), Err(SecurityLevelError));
        }
        assert_eq!(SecurityLevel::try_from(-3i64), Err(SecurityLevelError));
    }

    #[test]
    fn high_outranks_substantial() {
        assert!(SecurityLevel::High > SecurityLevel::Substantial);
        assert_eq!(SecurityLevel::High.acr(), "idporten-loa-high");
    }
}
