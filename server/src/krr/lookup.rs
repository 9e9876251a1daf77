//! The answer to a KRR lookup, field for field as Oppslagstjenesten names
//! them, cut down to what the caller's scopes allow.

use super::RegisterEntry;
use super::{
    person::{Channel, PersonStatus},
    rules::NotificationStatus,
};
use app::domain::Fnr;
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

pub use crate::agency::{CONTACT_SCOPE, DIGITAL_POST_SCOPE};

/// What a caller may see beyond the reservation and status, which everyone gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LookupScopes {
    pub contact: bool,
    pub digital_post: bool,
}

impl LookupScopes {
    pub fn from_granted<'a>(scopes: impl IntoIterator<Item = &'a str>) -> LookupScopes {
        let mut granted = LookupScopes::default();
        for scope in scopes {
            match scope {
                CONTACT_SCOPE => granted.contact = true,
                DIGITAL_POST_SCOPE => granted.digital_post = true,
                _ => {}
            }
        }
        granted
    }

    pub fn any(self) -> bool {
        self.contact || self.digital_post
    }
}

#[derive(Debug, Serialize)]
pub struct LookupResponse {
    pub personer: Vec<PersonResource>,
}

/// KRR writes times with an offset; UTC with seconds is the plainest such form.
pub fn krr_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonResource {
    pub personidentifikator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservasjon: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservasjonstidspunkt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservasjon_oppdatert: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varslingsstatus: Option<NotificationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kontaktinformasjon: Option<Kontaktinformasjon>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digital_post: Option<DigitalPost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sertifikat: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spraak: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spraak_oppdatert: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kontaktinformasjon {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epostadresse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epostadresse_oppdatert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epostadresse_sist_verifisert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobiltelefonnummer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobiltelefonnummer_oppdatert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobiltelefonnummer_sist_verifisert: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigitalPost {
    pub postkasseadresse: String,
    pub postkasseleverandoeradresse: String,
}

fn channel_fields<T>(
    channel: &Option<Channel<T>>,
    value: impl Fn(&T) -> &str,
) -> (Option<String>, Option<String>, Option<String>) {
    match channel {
        Some(channel) => (
            Some(value(&channel.value).to_owned()),
            Some(krr_time(channel.updated_at)),
            channel.verified_at.map(krr_time),
        ),
        None => (None, None, None),
    }
}

impl PersonResource {
    /// A person the register does not know: status and nothing else but,
    /// for callers who may see it, that they cannot be notified.
    pub fn not_registered(id: &Fnr, scopes: LookupScopes) -> PersonResource {
        PersonResource {
            personidentifikator: id.as_str().to_owned(),
            reservasjon: None,
            reservasjonstidspunkt: None,
            reservasjon_oppdatert: None,
            status: "IKKE_REGISTRERT",
            varslingsstatus: scopes.contact.then_some(NotificationStatus::KanIkkeVarsles),
            kontaktinformasjon: None,
            digital_post: None,
            sertifikat: None,
            spraak: None,
            spraak_oppdatert: None,
        }
    }

    pub fn registered(
        entry: &RegisterEntry,
        scopes: LookupScopes,
        now: DateTime<Utc>,
    ) -> PersonResource {
        let person = &entry.person;
        let active = person.status == PersonStatus::Active;
        // A deleted entry carries no contact, mailbox or certificate data.
        let show_contact = scopes.contact && active;
        let show_digital_post = scopes.digital_post && active;
        let kontaktinformasjon = show_contact.then(|| {
            let (epostadresse, epostadresse_oppdatert, epostadresse_sist_verifisert) =
                channel_fields(&person.email, |email| email.as_str());
            let (
                mobiltelefonnummer,
                mobiltelefonnummer_oppdatert,
                mobiltelefonnummer_sist_verifisert,
            ) = channel_fields(&person.mobile, |mobile| mobile.as_str());
            Kontaktinformasjon {
                epostadresse,
                epostadresse_oppdatert,
                epostadresse_sist_verifisert,
                mobiltelefonnummer,
                mobiltelefonnummer_oppdatert,
                mobiltelefonnummer_sist_verifisert,
            }
        });
        PersonResource {
            personidentifikator: person.fnr.as_str().to_owned(),
            reservasjon: Some(if person.reserved { "JA" } else { "NEI" }),
            reservasjonstidspunkt: person
                .reserved
                .then_some(person.reserved_at)
                .flatten()
                .map(krr_time),
            reservasjon_oppdatert: person.reservation_updated_at.map(krr_time),
            status: person.status.code(),
            varslingsstatus: scopes.contact.then(|| person.notification_status(now)),
            kontaktinformasjon,
            digital_post: show_digital_post
                .then(|| {
                    person.mailbox.as_ref().map(|mailbox| DigitalPost {
                        postkasseadresse: mailbox.address.clone(),
                        postkasseleverandoeradresse: mailbox.provider.as_str().to_owned(),
                    })
                })
                .flatten(),
            sertifikat: show_digital_post
                .then(|| {
                    person
                        .mailbox
                        .as_ref()
                        .and(entry.certificate_der.as_ref())
                        .map(|der| STANDARD.encode(der))
                })
                .flatten(),
            spraak: show_contact
                .then(|| person.language.map(|language| language.code().to_owned()))
                .flatten(),
            spraak_oppdatert: show_contact
                .then(|| person.language_updated_at.map(krr_time))
                .flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krr::{
        contact::EmailAddress,
        person::{DigitalMailbox, Person},
    };
    use app::domain::{OrgNr, SyntheticIds};
    use chrono::TimeZone;

    fn entry() -> RegisterEntry {
        let fnr = Fnr::parse("14838510036", SyntheticIds::Accepted).unwrap();
        let mut person = Person::blank(fnr);
        person.email = Some(Channel {
            value: EmailAddress::parse("kari@example.no").unwrap(),
            updated_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            verified_at: None,
        });
        person.mailbox = Some(DigitalMailbox {
            address: "kari.nordmann#AB12".into(),
            provider: OrgNr::parse("999900003").unwrap(),
        });
        RegisterEntry {
            person,
            certificate_der: Some(vec![1, 2, 3]),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    #[test]
    fn without_the_digital_post_scope_there_is_no_mailbox_or_certificate() {
        let scopes = LookupScopes::from_granted([CONTACT_SCOPE]);
        let json =
            serde_json::to_value(PersonResource::registered(&entry(), scopes, now())).unwrap();
        assert_eq!(json["reservasjon"], "NEI");
        assert_eq!(json["status"], "AKTIV");
        assert_eq!(json["varslingsstatus"], "KAN_VARSLES");
        assert_eq!(
            json["kontaktinformasjon"]["epostadresse"],
            "kari@example.no"
        );
        assert_eq!(
            json["kontaktinformasjon"]["epostadresse_oppdatert"],
            "2026-01-02T03:04:05Z"
        );
        assert!(json.get("digital_post").is_none(), "{json}");
        assert!(json.get("sertifikat").is_none(), "{json}");
    }

    #[test]
    fn without_the_contact_scope_there_are_no_contact_details() {
        let scopes = LookupScopes::from_granted([DIGITAL_POST_SCOPE]);
        let json =
            serde_json::to_value(PersonResource::registered(&entry(), scopes, now())).unwrap();
        assert_eq!(json["reservasjon"], "NEI");
        assert!(json.get("kontaktinformasjon").is_none(), "{json}");
        assert!(json.get("varslingsstatus").is_none(), "{json}");
        assert_eq!(
            json["digital_post"]["postkasseleverandoeradresse"],
            "999900003"
        );
        assert_eq!(json["sertifikat"], "AQID");
    }

    #[test]
    fn a_deleted_entry_shows_no_data_and_cannot_be_notified() {
        let mut entry = entry();
        entry.person.status = PersonStatus::Deleted;
        let scopes = LookupScopes::from_granted([CONTACT_SCOPE, DIGITAL_POST_SCOPE]);
        let json = serde_json::to_value(PersonResource::registered(&entry, scopes, now())).unwrap();
        assert_eq!(json["status"], "SLETTET");
        assert_eq!(json["varslingsstatus"], "KAN_IKKE_VARSLES");
        for field in ["kontaktinformasjon", "digital_post", "sertifikat"] {
            assert!(json.get(field).is_none(), "{field}: {json}");
        }
    }

    #[test]
    fn an_unknown_person_is_not_registered() {
        let fnr = Fnr::parse("02917910181", SyntheticIds::Accepted).unwrap();
        let scopes = LookupScopes::from_granted([CONTACT_SCOPE]);
        let json = serde_json::to_value(PersonResource::not_registered(&fnr, scopes)).unwrap();
        assert_eq!(json["status"], "IKKE_REGISTRERT");
        assert_eq!(json["varslingsstatus"], "KAN_IKKE_VARSLES");
        assert!(json.get("reservasjon").is_none());
    }
}
