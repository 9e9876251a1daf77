//! The print house's answers about letters, and what each means for the
//! letter and its sender.
//!
//! An answer file is JSON: `{"batch": "<id>", "answers": [{"letter": "<id>",
//! "status": "accepted" | "posted" | "failed" | "returned", "reason": "..."}]}`.
//! Each answer is recorded once per letter and status, with the DPI receipt
//! it causes:
//!
//! | answer | the letter | the sender gets |
//! |---|---|---|
//! | accepted | taken by the print house | `mottakskvittering` |
//! | posted | handed to the post | `leveringskvittering` |
//! | failed | could not be printed | `feil` |
//! | returned, `MAKULERING_MED_MELDING` | came back, shredded | `returpostkvittering` |
//! | returned, `DIREKTE_RETUR` | came back, sent on to the return address | no receipt: the letter itself goes back |

use super::ReturnHandling;
use crate::notify::SenderReceipt;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerFile {
    /// The batch the answers are about, when the print house names it.
    #[serde(default)]
    pub batch: Option<Uuid>,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub letter: Uuid,
    pub status: AnswerStatus,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStatus {
    Accepted,
    Posted,
    Failed,
    Returned,
}

impl AnswerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerStatus::Accepted => "accepted",
            AnswerStatus::Posted => "posted",
            AnswerStatus::Failed => "failed",
            AnswerStatus::Returned => "returned",
        }
    }

    /// How far along the letter is: a late answer never takes a letter back
    /// (posted, then a delayed "accepted", stays posted).
    pub fn rank(self) -> u8 {
        match self {
            AnswerStatus::Accepted => 2,
            AnswerStatus::Posted => 3,
            AnswerStatus::Failed | AnswerStatus::Returned => 4,
        }
    }
}

/// The receipt an answer gives the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintReceipt {
    Received,
    Delivered,
    ReturnedMail,
    Failed { reason: String },
}

/// Makes the DPI receipt for a printed letter's sender (the broker does, as
/// it makes all of this Postkasse's receipts).
#[async_trait]
pub trait PrintReceipts: Send + Sync + 'static {
    async fn print_receipt(
        &self,
        message_row: Uuid,
        receipt: &PrintReceipt,
    ) -> anyhow::Result<SenderReceipt>;
}

/// What an answer means: the receipt (if any) and the transport status the
/// sender sees, with its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consequence {
    pub receipt: Option<PrintReceipt>,
    pub failed: bool,
    pub description: String,
}

pub fn consequence(answer: &Answer, return_handling: ReturnHandling) -> Consequence {
    let reason = answer
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|reason| !reason.is_empty());
    let with_reason = |text: &str| match reason {
        Some(reason) => format!("{text}: {reason}"),
        None => text.to_owned(),
    };
    match answer.status {
        AnswerStatus::Accepted => Consequence {
            receipt: Some(PrintReceipt::Received),
            failed: false,
            description: "mottatt av trykkeriet".to_owned(),
        },
        AnswerStatus::Posted => Consequence {
            receipt: Some(PrintReceipt::Delivered),
            failed: false,
            description: "postlagt".to_owned(),
        },
        AnswerStatus::Failed => Consequence {
            receipt: Some(PrintReceipt::Failed {
                reason: with_reason("utskrift feilet"),
            }),
            failed: true,
            description: with_reason("utskrift feilet"),
        },
        AnswerStatus::Returned => match return_handling {
            ReturnHandling::ShredWithNotice => Consequence {
                receipt: Some(PrintReceipt::ReturnedMail),
                failed: true,
                description: with_reason("kom i retur og er makulert"),
            },
            ReturnHandling::Direct => Consequence {
                receipt: None,
                failed: true,
                description: with_reason("kom i retur og er sendt til returadressen"),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: AnswerStatus, reason: Option<&str>) -> Answer {
        Answer {
            letter: Uuid::new_v4(),
            status,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_returned_letter_gives_a_receipt_only_when_it_is_shredded() {
        let returned = answer(AnswerStatus::Returned, Some("ukjent adresse"));
        let shredded = consequence(&returned, ReturnHandling::ShredWithNotice);
        assert_eq!(shredded.receipt, Some(PrintReceipt::ReturnedMail));
        assert_eq!(
            shredded.description,
            "kom i retur og er makulert: ukjent adresse"
        );
        let direct = consequence(&returned, ReturnHandling::Direct);
        assert_eq!(direct.receipt, None);
        assert!(direct.failed);
    }

    #[test]
    fn a_failure_carries_its_reason_to_the_sender() {
        let failed = consequence(
            &answer(AnswerStatus::Failed, Some("papirstopp")),
            ReturnHandling::Direct,
        );
        assert_eq!(
            failed.receipt,
            Some(PrintReceipt::Failed {
                reason: "utskrift feilet: papirstopp".into()
            })
        );
    }

    #[test]
    fn answer_files_are_read_strictly() {
        let file: AnswerFile = serde_json::from_str(
            r#"{"answers": [{"letter": "6f1c2d7e-4c1a-4a3b-9f3e-2b1c0d9e8f7a", "status": "posted"}]}"#,
        )
        .unwrap();
        assert_eq!(file.answers[0].status, AnswerStatus::Posted);
        assert!(serde_json::from_str::<AnswerFile>(
            r#"{"answers": [{"letter": "6f1c2d7e-4c1a-4a3b-9f3e-2b1c0d9e8f7a", "status": "lost"}]}"#
        )
        .is_err());
    }
}
