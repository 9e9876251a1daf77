//! Reading an agency's signing order
//! (`application/vnd.postkasse.signeringsoppdrag+json`, docs/signing.md)
//! into a [`SigningOrder`], naming every problem at once by its path.
//!
//! The order rides on the letter's main document, which must be a PDF: that
//! is what is signed. The signer is the letter's recipient; the deadline is
//! ahead and at most [`MAX_OPEN_DAYS`] away, as Posten signering allows.

use crate::json_fields::Problems;
use app::domain::{
    signing_order::{Signer, SignerIdentifier, MAX_OPEN_DAYS},
    Fnr, SecurityLevel, SigningOrder, SyntheticIds,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const MEDIA_TYPE: &str = "application/vnd.postkasse.signeringsoppdrag+json";
pub const VERSION: i64 = 1;
const MAX_TITLE_CHARS: usize = 200;
const MAX_NAME_CHARS: usize = 200;

/// Reads the order's bytes; `path` prefixes every problem's name. `now` is
/// when the letter arrives. That the signer is the letter's recipient is
/// checked once the recipient is known ([`check_signer`]).
pub fn parse(
    bytes: &[u8],
    path: &str,
    now: DateTime<Utc>,
) -> Result<SigningOrder, Vec<crate::validation::FieldError>> {
    let value = crate::json_fields::parse_json(bytes, path)?;
    let mut problems = Problems::default();
    let Some(mut root) = problems.object(&value, path) else {
        return Err(problems.0);
    };
    root.version(VERSION, &mut problems);
    let title = root.text("tittel", MAX_TITLE_CHARS, true, &mut problems);
    let deadline = root.deadline("frist", now, MAX_OPEN_DAYS, &mut problems);
    let level = match root.value("sikkerhetsnivaa") {
        None => Some(SecurityLevel::High),
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|level| u8::try_from(level).ok())
            .and_then(|level| SecurityLevel::try_from(level).ok())
            .or_else(|| {
                problems.add(root.path_of("sikkerhetsnivaa"), "must be 3 or 4");
                None
            }),
        Some(_) => {
            problems.add(root.path_of("sikkerhetsnivaa"), "must be 3 or 4");
            None
        }
    };
    let identifier = match root.string("identifisering", &mut problems) {
        None => Some(SignerIdentifier::PersonalIdAndName),
        Some(code) => SignerIdentifier::from_code(code).or_else(|| {
            problems.add(
                root.path_of("identifisering"),
                "must be PERSONIDENTIFIKATOR_OG_NAVN, FOEDSELSDATO_OG_NAVN or NAVN",
            );
            None
        }),
    };
    let signer = signers(&mut root, &mut problems);
    root.finish(&mut problems);
    match (
        title,
        deadline,
        level,
        identifier,
        signer,
        problems.is_empty(),
    ) {
        (Some(title), Some(deadline), Some(level), Some(identifier), Some(signer), true) => {
            Ok(SigningOrder {
                title,
                signer,
                level,
                deadline,
                identifier,
            })
        }
        _ => Err(problems.0),
    }
}

/// `signatarer`: the recipient, named.
fn signers(root: &mut crate::json_fields::Fields<'_>, problems: &mut Problems) -> Option<Signer> {
    let field = root.path_of("signatarer");
    let items = match root.array("signatarer", problems) {
        None => {
            if root.value("signatarer").is_none() {
                problems.add(&field, "is required");
            }
            return None;
        }
        Some(items) => items,
    };
    let [item] = items else {
        // A second signer would need the document in their own mailbox;
        // Postkasse signs with the recipient alone so far (docs/signing.md).
        problems.add(
            &field,
            "must name exactly one signer: the letter's recipient",
        );
        return None;
    };
    let path = format!("{field}[0]");
    let mut fields = problems.object(item, &path)?;
    let fnr = fields
        .required_string("personidentifikator", problems)
        // Whatever the synthetic-id policy, the signer must be the
        // recipient, who was checked against it.
        .and_then(|text| match Fnr::parse(text, SyntheticIds::Accepted) {
            Ok(fnr) => Some(fnr),
            Err(error) => {
                problems.add(fields.path_of("personidentifikator"), error);
                None
            }
        });
    let name = fields.text("navn", MAX_NAME_CHARS, true, problems);
    fields.finish(problems);
    Some(Signer {
        fnr: fnr?,
        name: name?,
    })
}

/// The problem, if any, with an order whose letter goes to `recipient`;
/// `path` is where the order is in the package.
pub fn check_signer(
    order: &SigningOrder,
    recipient: &Fnr,
    path: &str,
) -> Option<crate::validation::FieldError> {
    (&order.signer.fnr != recipient).then(|| {
        crate::validation::FieldError::new(
            format!("{path}.signatarer[0].personidentifikator"),
            "must be the letter's recipient",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use serde_json::json;

    const KARI: &str = "14838510036";

    fn read(order: Value, now: DateTime<Utc>) -> Result<SigningOrder, Vec<String>> {
        parse(order.to_string().as_bytes(), "data", now)
            .map_err(|problems| problems.into_iter().map(|p| p.name).collect())
    }

    #[test]
    fn a_good_order_reads_with_its_defaults() {
        let now = Utc::now();
        let order = read(
            json!({
                "versjon": 1,
                "tittel": "Arbeidsavtale",
                "frist": (now + Duration::days(30)).to_rfc3339(),
                "signatarer": [{"personidentifikator": KARI, "navn": "Kari Nordmann"}],
            }),
            now,
        )
        .unwrap();
        assert_eq!(order.level, SecurityLevel::High);
        assert_eq!(order.identifier, SignerIdentifier::PersonalIdAndName);
        assert_eq!(order.signer.name, "Kari Nordmann");
    }

    #[test]
    fn every_problem_is_named() {
        let now = Utc::now();
        let problems = read(
            json!({
                "versjon": 2,
                "frist": (now + Duration::days(91)).to_rfc3339(),
                "sikkerhetsnivaa": 2,
                "identifisering": "NAVN_OG_ADRESSE",
                "signatarer": [{"personidentifikator": "1705402664", "navn": ""}],
                "ekstra": true,
            }),
            now,
        )
        .unwrap_err();
        for name in [
            "data.versjon",
            "data.tittel",
            "data.frist",
            "data.sikkerhetsnivaa",
            "data.identifisering",
            "data.signatarer[0].personidentifikator",
            "data.signatarer[0].navn",
            "data.ekstra",
        ] {
            assert!(problems.iter().any(|p| p == name), "{name} in {problems:?}");
        }
    }

    #[test]
    fn two_signers_are_refused() {
        let now = Utc::now();
        let signer = json!({"personidentifikator": KARI, "navn": "Kari"});
        let problems = read(
            json!({
                "versjon": 1,
                "tittel": "Avtale",
                "frist": (now + Duration::days(1)).to_rfc3339(),
                "signatarer": [signer.clone(), signer],
            }),
            now,
        )
        .unwrap_err();
        assert_eq!(problems, ["data.signatarer"]);
    }
}
