//! A signing order (Postkasse's `signeringsoppdrag` extension,
//! docs/signing.md): the agency asks the citizen to sign the letter's main
//! document. The server parses it from the package; the types live here so
//! the letter page can show what is asked.

use super::{Fnr, SecurityLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest an order may stay open, as Posten signering's
/// `availability` allows.
pub const MAX_OPEN_DAYS: i64 = 90;

/// The most signers an order may name: the recipient and nine more.
pub const MAX_SIGNERS: usize = 10;

/// What identifies the signer in the signed document (Posten signering's
/// `identifier-in-signed-documents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignerIdentifier {
    /// National identity number and name.
    PersonalIdAndName,
    /// Date of birth and name.
    BirthDateAndName,
    Name,
}

impl SignerIdentifier {
    /// The order's spelling.
    pub fn code(self) -> &'static str {
        match self {
            SignerIdentifier::PersonalIdAndName => "PERSONIDENTIFIKATOR_OG_NAVN",
            SignerIdentifier::BirthDateAndName => "FOEDSELSDATO_OG_NAVN",
            SignerIdentifier::Name => "NAVN",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::PersonalIdAndName, Self::BirthDateAndName, Self::Name]
            .into_iter()
            .find(|identifier| identifier.code() == code)
    }
}

/// One person who is to sign, as the order names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    #[serde(deserialize_with = "stored_fnr")]
    pub fnr: Fnr,
    /// The name as the signed document shows it; the agency takes it from
    /// the population register, which Postkasse does not reach.
    pub name: String,
}

/// A national id read back from Postkasse's own storage, where only ids
/// checked at intake (against the synthetic-id policy then) are written.
fn stored_fnr<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fnr, D::Error> {
    let text = String::deserialize(deserializer)?;
    Fnr::parse(&text, super::SyntheticIds::Accepted).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningOrder {
    /// What is signed, as the citizen and the signed document see it.
    pub title: String,
    /// Who signs, in order: the letter's recipient first, then any other
    /// citizens, each in turn once everyone before them has signed.
    pub signers: Vec<Signer>,
    pub level: SecurityLevel,
    pub deadline: DateTime<Utc>,
    pub identifier: SignerIdentifier,
}

/// How far a signer has got (Posten signering's signer statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignerStatus {
    Waiting,
    Signed,
    Rejected,
    Expired,
    Cancelled,
}

impl SignerStatus {
    /// The spelling in the database and in the agency's documents.
    pub fn code(self) -> &'static str {
        match self {
            SignerStatus::Waiting => "WAITING",
            SignerStatus::Signed => "SIGNED",
            SignerStatus::Rejected => "REJECTED",
            SignerStatus::Expired => "EXPIRED",
            SignerStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Signed,
            Self::Rejected,
            Self::Expired,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.code() == code)
    }
}

/// How a whole job stands (Posten signering's job statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// Someone is still to sign.
    InProgress,
    /// Everyone signed.
    CompletedSuccessfully,
    /// A signer declined, the deadline passed, or the sender cancelled.
    Failed,
}

impl JobStatus {
    /// The spelling in the database and in the agency's documents.
    pub fn code(self) -> &'static str {
        match self {
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::CompletedSuccessfully => "COMPLETED_SUCCESSFULLY",
            JobStatus::Failed => "FAILED",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::InProgress, Self::CompletedSuccessfully, Self::Failed]
            .into_iter()
            .find(|status| status.code() == code)
    }

    /// The job's status when its signers have these, in order.
    pub fn of(signers: impl IntoIterator<Item = SignerStatus>) -> Self {
        let mut all_signed = true;
        for status in signers {
            match status {
                SignerStatus::Signed => {}
                SignerStatus::Waiting => all_signed = false,
                SignerStatus::Rejected | SignerStatus::Expired | SignerStatus::Cancelled => {
                    return JobStatus::Failed
                }
            }
        }
        if all_signed {
            JobStatus::CompletedSuccessfully
        } else {
            JobStatus::InProgress
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back() {
        for identifier in [
            SignerIdentifier::PersonalIdAndName,
            SignerIdentifier::BirthDateAndName,
            SignerIdentifier::Name,
        ] {
            assert_eq!(
                SignerIdentifier::from_code(identifier.code()),
                Some(identifier)
            );
        }
        assert_eq!(
            SignerStatus::from_code("SIGNED"),
            Some(SignerStatus::Signed)
        );
        assert_eq!(SignerStatus::from_code("signed"), None);
        assert_eq!(
            JobStatus::from_code("IN_PROGRESS"),
            Some(JobStatus::InProgress)
        );
    }

    #[test]
    fn a_job_completes_when_everyone_signed_and_fails_when_anyone_did_not() {
        use SignerStatus::*;
        assert_eq!(
            JobStatus::of([Signed, Signed]),
            JobStatus::CompletedSuccessfully
        );
        assert_eq!(JobStatus::of([Signed, Waiting]), JobStatus::InProgress);
        assert_eq!(
            JobStatus::of([Signed, Rejected, Cancelled]),
            JobStatus::Failed
        );
        assert_eq!(JobStatus::of([Expired]), JobStatus::Failed);
    }
}
