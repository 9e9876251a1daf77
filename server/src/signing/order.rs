//! Reading an agency's signing order
//! (`application/vnd.postkasse.signeringsoppdrag+json`, docs/signing.md)
//! into a [`SigningOrder`], naming every problem at once by its path.
//!
//! The order rides on the letter's main document, which must be a PDF: that
//! is what is signed. The first signer is the letter's recipient, and up to
//! [`MAX_SIGNERS`] in all sign in turn; the deadline is ahead and at most
//! [`MAX_OPEN_DAYS`] away, as Posten signering allows.

use crate::json_fields::Problems;
use app::domain::{
    signing_order::{Signer, SignerIdentifier, MAX_OPEN_DAYS, MAX_SIGNERS},
    Fnr, SecurityLevel, SigningOrder, SyntheticIds,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const MEDIA_TYPE: &str = "application/vnd.postkasse.signeringsoppdrag+json";
pub const VERSION: i64 = 1;
const MAX_TITLE_CHARS: usize = 200;
const MAX_NAME_CHARS: usize = 200;

/// Reads the order's bytes; `path` prefixes every problem's name. `now` is
/// when the letter arrives. That the first signer is the letter's recipient
/// is checked once the recipient is known ([`check_signers`]).
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
    let signers = signers(&mut root, crate::clock::norwegian_date(now), &mut problems);
    root.finish(&mut problems);
    match (
        title,
        deadline,
        level,
        identifier,
        signers,
        problems.is_empty(),
    ) {
        (Some(title), Some(deadline), Some(level), Some(identifier), Some(signers), true) => {
            Ok(SigningOrder {
                title,
                signers,
                level,
                deadline,
                identifier,
            })
        }
        _ => Err(problems.0),
    }
}

/// `signatarer`: the recipient and up to nine more citizens, named, each
/// once, none born after `today`.
fn signers(
    root: &mut crate::json_fields::Fields<'_>,
    today: chrono::NaiveDate,
    problems: &mut Problems,
) -> Option<Vec<Signer>> {
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
    if items.is_empty() || items.len() > MAX_SIGNERS {
        problems.add(
            &field,
            format!("must name from 1 to {MAX_SIGNERS} signers, the letter's recipient first"),
        );
        return None;
    }
    let mut signers = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("{field}[{index}]");
        let Some(mut fields) = problems.object(item, &path) else {
            continue;
        };
        let fnr = fields
            .required_string("personidentifikator", problems)
            // Whatever the synthetic-id policy: the first signer is the
            // recipient, who was checked against it, and the others are
            // citizens who log in with their own id.
            .and_then(
                |text| match Fnr::parse_on(text, SyntheticIds::Accepted, today) {
                    Ok(fnr) => Some(fnr),
                    Err(error) => {
                        problems.add(fields.path_of("personidentifikator"), error);
                        None
                    }
                },
            );
        if let Some(fnr) = &fnr {
            if signers.iter().any(|earlier: &Signer| &earlier.fnr == fnr) {
                problems.add(
                    fields.path_of("personidentifikator"),
                    "names a signer who is already in the list",
                );
            }
        }
        let name = fields.text("navn", MAX_NAME_CHARS, true, problems);
        fields.finish(problems);
        if let (Some(fnr), Some(name)) = (fnr, name) {
            signers.push(Signer { fnr, name });
        }
    }
    (signers.len() == items.len()).then_some(signers)
}

/// The problem, if any, with an order whose letter goes to `recipient`: the
/// recipient signs first. `path` is where the order is in the package.
pub fn check_signers(
    order: &SigningOrder,
    recipient: &Fnr,
    path: &str,
) -> Option<crate::validation::FieldError> {
    (order.signers.first().map(|signer| &signer.fnr) != Some(recipient)).then(|| {
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
        assert_eq!(order.signers.len(), 1);
        assert_eq!(order.signers[0].name, "Kari Nordmann");
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
    fn signers_sign_in_the_order_given_each_once_and_at_most_ten() {
        let now = Utc::now();
        let order = |signers: Vec<Value>| {
            read(
                json!({
                    "versjon": 1,
                    "tittel": "Avtale",
                    "frist": (now + Duration::days(1)).to_rfc3339(),
                    "signatarer": signers,
                }),
                now,
            )
        };
        let kari = json!({"personidentifikator": KARI, "navn": "Kari"});
        let ola = json!({"personidentifikator": "02917910181", "navn": "Ola"});
        let read_two = order(vec![kari.clone(), ola.clone()]).unwrap();
        let names: Vec<_> = read_two.signers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Kari", "Ola"]);
        assert_eq!(
            order(vec![kari.clone(), ola, kari.clone()]).unwrap_err(),
            ["data.signatarer[2].personidentifikator"]
        );
        assert_eq!(order(vec![]).unwrap_err(), ["data.signatarer"]);
        assert_eq!(order(vec![kari; 11]).unwrap_err(), ["data.signatarer"]);
    }

    #[test]
    fn the_recipient_signs_first() {
        let now = Utc::now();
        let kari = Fnr::parse(KARI, SyntheticIds::Accepted).unwrap();
        let ola = Fnr::parse("02917910181", SyntheticIds::Accepted).unwrap();
        let order = SigningOrder {
            title: "Avtale".into(),
            signers: vec![
                Signer {
                    fnr: ola.clone(),
                    name: "Ola".into(),
                },
                Signer {
                    fnr: kari.clone(),
                    name: "Kari".into(),
                },
            ],
            level: SecurityLevel::High,
            deadline: now,
            identifier: SignerIdentifier::Name,
        };
        assert!(check_signers(&order, &ola, "data").is_none());
        assert_eq!(
            check_signers(&order, &kari, "data").unwrap().name,
            "data.signatarer[0].personidentifikator"
        );
    }
}
