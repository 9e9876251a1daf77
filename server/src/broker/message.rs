//! The DPI business message (`forretningsmelding`): a standard business
//! document (SBD) with a `digital` or `utskrift` body, read into a
//! [`BusinessMessage`] Postkasse can trust. Field names and limits are DPI's
//! (docs/protocol.md#business-messages-sbd); every problem is reported at once.
//!
//! A `digital` message comes in one of two addressing shapes ([`Addressee`]):
//!
//! - **the provider shape**, DPI's own: the SBD header's `receiver` is this
//!   mailbox provider (`0192:` and its organisation number) and
//!   `mottaker.postkasseadresse` names the citizen's mailbox here;
//! - **the broker shape**: Postkasse also plays the broker that looks citizens
//!   up in the register, as eFormidling's integration point does, so the
//!   `receiver` may name the citizen by `personidentifikator` and leave the
//!   mailbox to the register. That shape is an interpretation; see
//!   docs/protocol.md#choices-where-the-sources-are-silent.

use crate::json_fields::{Fields, Problems};
use crate::{
    notify::{contains_link, OrderedNotice, OrderedNotices},
    print::{PostClass, PrintColour, PrintIfUnread, PrintOrder, RawPostalAddress, ReturnHandling},
    validation::FieldError,
};
use app::domain::{
    ConversationId, Fnr, MessageId, OrgNr, SecurityLevel, SyntheticIds, TextError, Title,
};
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use serde_json::Value;

pub const STANDARD_DIGITAL: &str = "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:digital::1.0";
pub const STANDARD_PRINT: &str = "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:utskrift::1.0";
/// A letter one mailbox provider moves to another for a citizen who switched.
pub const STANDARD_MOVED: &str = "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:flyttet::1.0";
pub const PROCESS_DIGITAL: &str =
    "urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:digital:ver1.0";
pub const PROCESS_PRINT: &str =
    "urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:utskrift:ver1.0";
pub const PROCESS_MOVED: &str =
    "urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:flyttet:ver1.0";
/// eFormidling's processes, which say whether the notification duty of
/// eForvaltningsforskriften §8 applies.
pub const PROCESS_DECISION: &str = "urn:no:difi:profile:digitalpost:vedtak:ver1.0";
pub const PROCESS_INFORMATION: &str = "urn:no:difi:profile:digitalpost:info:ver1.0";
/// DPI's bound on `avsenderidentifikator`, in the message and in queries.
pub const MAX_AVSENDERIDENTIFIKATOR_CHARS: usize = 100;
pub const SHA256_METHOD: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const ACTOR_AUTHORITY: &str = "iso6523-actorid-upis";

use super::routing::Process;

/// How far ahead `virkningstidspunkt` may lie. An interpretation: DPI calls
/// "too far ahead" a client error but sets no limit (see
/// docs/protocol.md#choices-where-the-sources-are-silent).
pub const MAX_EFFECTIVE_AHEAD_DAYS: i64 = 366;

/// Whom a `digital` message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressee {
    /// The broker shape: the citizen by national id; the register says where
    /// their mailbox is.
    Person(Fnr),
    /// The provider shape: the citizen's mailbox at this provider, by its
    /// `postkasseadresse`.
    MailboxHere(String),
}

/// The `digital` body, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLetter {
    pub addressee: Addressee,
    /// `mottaker.postkasseadresse` as given.
    pub postkasseadresse: Option<String>,
    pub security_level: SecurityLevel,
    pub nonsensitive_title: Title,
    pub language: String,
    /// From `virkningstidspunkt`, or `virkningsdato` at midnight in Norway.
    pub effective_at: Option<DateTime<Utc>>,
    pub opening_receipt: bool,
    pub notices: OrderedNotices,
    /// `utskriftHvisUlest`, Postkasse's extension: print the letter if it is
    /// not opened by a deadline.
    pub print_if_unread: Option<PrintIfUnread>,
}

/// The `flyttet` body: a letter the citizen's previous provider moves here,
/// with what happened to it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedLetter {
    /// Its fields in common with `digital`; it is always addressed to a
    /// mailbox here, and orders no notices or receipts.
    pub letter: DigitalLetter,
    /// `mottakstidspunkt`, the day the first provider received it, at its
    /// start in Norway (the field is a date only).
    pub received_at: DateTime<Utc>,
    /// `aapnet`: whether the citizen had opened it.
    pub opened: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Digital(DigitalLetter),
    Print(PrintOrder),
    Moved(MovedLetter),
}

impl Body {
    /// The body's key in the SBD, and so the start of its fields' paths.
    pub fn key(&self) -> &'static str {
        match self {
            Body::Digital(_) => "digital",
            Body::Print(_) => "utskrift",
            Body::Moved(_) => "flyttet",
        }
    }

    /// The letter for a mailbox, when the body is one.
    pub fn letter(&self) -> Option<&DigitalLetter> {
        match self {
            Body::Digital(letter) => Some(letter),
            Body::Moved(moved) => Some(&moved.letter),
            Body::Print(_) => None,
        }
    }
}

/// A business message that passed every check.
#[derive(Debug, Clone)]
pub struct BusinessMessage {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub process: Process,
    /// The agency the letter is from (`avsender`).
    pub sender: OrgNr,
    /// The data processor that sends for the agency (the SBD header's
    /// sender, when it is not the agency).
    pub processor: Option<OrgNr>,
    pub avsenderidentifikator: Option<String>,
    /// The sender's Maskinporten access token, to be verified; never stored.
    pub maskinportentoken: Option<String>,
    /// `dokumentpakkefingeravtrykk.digestValue`: base64 SHA-256 of the package as sent.
    pub package_fingerprint: String,
    pub body: Body,
    /// The SBD as received without the embedded access token, which is a
    /// credential and expires within minutes anyway.
    pub document: Value,
}

/// What the message is checked against.
pub struct Expectations<'a> {
    /// The organisation the access token was issued to.
    pub agency: &'a OrgNr,
    /// This mailbox provider's organisation number: the receiver of a
    /// message in the provider shape.
    pub provider: &'a OrgNr,
    pub synthetic_ids: SyntheticIds,
    pub now: DateTime<Utc>,
}

const ROOT: &str = "forretningsmelding";

/// Reads a business message. `document` is the SBD as JSON (when it arrived as
/// a signed JWT, its verified payload).
pub fn parse(
    document: &Value,
    expect: &Expectations<'_>,
) -> Result<BusinessMessage, Vec<FieldError>> {
    let mut problems = Problems::default();
    let Some(mut root) = problems.object(document, ROOT) else {
        return Err(problems.0);
    };
    let Some(mut sbd) = root.required_object("standardBusinessDocument", &mut problems) else {
        root.finish(&mut problems);
        return Err(problems.0);
    };
    root.finish(&mut problems);
    let header = sbd
        .required_object("standardBusinessDocumentHeader", &mut problems)
        .map(|header| read_header(header, expect, &mut problems));
    let digital = sbd.object("digital", &mut problems);
    let print = sbd.object("utskrift", &mut problems);
    let moved = sbd.object("flyttet", &mut problems);
    let sbd_path = sbd.path().to_owned();
    sbd.finish(&mut problems);

    let receiver = header
        .as_ref()
        .and_then(|header| header.as_ref())
        .and_then(|header| header.receiver.clone());
    let (body, common) = match (digital, print, moved) {
        (Some(digital), None, None) => read_digital(
            digital,
            receiver,
            LetterKind::Digital,
            expect,
            &mut problems,
        ),
        (None, Some(print), None) => read_print(print, &mut problems),
        (None, None, Some(moved)) => {
            read_digital(moved, receiver, LetterKind::Moved, expect, &mut problems)
        }
        (None, None, None) => {
            problems.add(
                &sbd_path,
                "must have a digital, an utskrift or a flyttet body",
            );
            (None, None)
        }
        _ => {
            problems.add(
                &sbd_path,
                "must have only one of digital, utskrift and flyttet",
            );
            (None, None)
        }
    };

    let Some(header) = header.flatten() else {
        return Err(problems.0);
    };
    if let Some(common) = &common {
        let is_provider_shape = matches!(header.receiver, Some(Receiver::ThisProvider));
        if is_provider_shape && common.maskinportentoken.is_none() {
            problems.add(
                format!("{sbd_path}.{}.maskinportentoken", header.body_key),
                "is required when the message is addressed to this mailbox provider",
            );
        }
    }
    let process_matches = matches!(
        (&body, header.process),
        (
            Some(Body::Digital(_)),
            Process::Decision | Process::Information
        ) | (Some(Body::Print(_)), Process::Print)
            | (Some(Body::Moved(_)), Process::Information)
            | (None, _)
    ) && (header.moved == matches!(body, Some(Body::Moved(_)))
        || body.is_none());
    if !process_matches {
        problems.add(
            format!("{}.businessScope.scope[0].identifier", header.path),
            "names a process that does not match the message body",
        );
    }
    match (body, common) {
        (Some(body), Some(common)) if problems.is_empty() => {
            let mut document = document.clone();
            if let Some(body) = document
                .pointer_mut(&format!("/standardBusinessDocument/{}", header.body_key))
                .and_then(Value::as_object_mut)
            {
                body.remove("maskinportentoken");
            }
            Ok(BusinessMessage {
                message_id: header.message_id,
                conversation_id: header.conversation_id,
                process: header.process,
                processor: (common.sender != header.sender).then_some(header.sender),
                sender: common.sender,
                avsenderidentifikator: common.avsenderidentifikator,
                maskinportentoken: common.maskinportentoken,
                package_fingerprint: common.fingerprint,
                body,
                document,
            })
        }
        _ => Err(problems.0),
    }
}

/// A `digital` message's SBD receiver.
#[derive(Debug, Clone)]
enum Receiver {
    /// The citizen's national id (the broker shape).
    Person(Fnr),
    /// This provider (the provider shape).
    ThisProvider,
}

struct Header {
    path: String,
    message_id: MessageId,
    conversation_id: ConversationId,
    process: Process,
    sender: OrgNr,
    /// For `digital`: whom the header's receiver names.
    receiver: Option<Receiver>,
    body_key: &'static str,
    /// Whether the process is `flyttet`, which only a moved letter names.
    moved: bool,
}

fn read_header(
    mut header: Fields<'_>,
    expect: &Expectations<'_>,
    problems: &mut Problems,
) -> Option<Header> {
    let path = header.path().to_owned();
    match header.required_string("headerVersion", problems) {
        Some("1.0") | None => {}
        Some(_) => problems.add(header.path_of("headerVersion"), "must be \"1.0\""),
    }
    let sender = first_party(&mut header, "sender", problems).and_then(|(value, path)| {
        match organisation(value) {
            Ok(org_nr) if org_nr == *expect.agency => Some(org_nr),
            Ok(_) => {
                problems.add(
                    path,
                    "must be the organisation the access token was issued to",
                );
                None
            }
            Err(reason) => {
                problems.add(path, reason);
                None
            }
        }
    });
    let receiver = first_party(&mut header, "receiver", problems);

    let mut identification = header.required_object("documentIdentification", problems);
    let (standard, message_id) = match identification.as_mut() {
        Some(identification) => {
            let standard = identification.required_string("standard", problems);
            let body_key = match standard {
                Some(STANDARD_DIGITAL) => Some("digital"),
                Some(STANDARD_PRINT) => Some("utskrift"),
                Some(STANDARD_MOVED) => Some("flyttet"),
                Some(_) => {
                    problems.add(
                        identification.path_of("standard"),
                        format!("must be {STANDARD_DIGITAL}, {STANDARD_PRINT} or {STANDARD_MOVED}"),
                    );
                    None
                }
                None => None,
            };
            match (identification.required_string("type", problems), body_key) {
                (Some(kind), Some(expected)) if kind != expected => problems.add(
                    identification.path_of("type"),
                    format!("must be \"{expected}\" for this standard"),
                ),
                _ => {}
            }
            match identification.required_string("typeVersion", problems) {
                Some("1.0") | None => {}
                Some(_) => problems.add(identification.path_of("typeVersion"), "must be \"1.0\""),
            }
            let message_id = identification
                .required_string("instanceIdentifier", problems)
                .and_then(|id| uuid(id, &identification.path_of("instanceIdentifier"), problems))
                .map(MessageId::from_uuid);
            if let Some(created) = identification.required_string("creationDateAndTime", problems) {
                if DateTime::parse_from_rfc3339(created).is_err() {
                    problems.add(
                        identification.path_of("creationDateAndTime"),
                        "must be a date and time with zone (RFC 3339)",
                    );
                }
            }
            (body_key, message_id)
        }
        None => (None, None),
    };
    if let Some(identification) = identification {
        identification.finish(problems);
    }

    let (process, conversation_id) = read_scope(&mut header, problems);
    let moved = header
        .value("businessScope")
        .and_then(|scope| scope.get("scope"))
        .and_then(Value::as_array)
        .is_some_and(|scopes| {
            scopes
                .iter()
                .any(|scope| scope.get("identifier").and_then(Value::as_str) == Some(PROCESS_MOVED))
        });
    header.finish(problems);

    let receiver = match (standard, receiver) {
        (Some("digital"), Some((value, path))) => read_receiver(value, &path, expect, problems),
        // A moved letter goes from provider to provider, never by national id.
        (Some("flyttet"), Some((value, path))) => {
            match read_receiver(value, &path, expect, problems) {
                Some(Receiver::Person(_)) => {
                    problems.add(path, "must be 0192: and this mailbox provider's number");
                    None
                }
                receiver => receiver,
            }
        }
        _ => None,
    };
    Some(Header {
        path,
        message_id: message_id?,
        conversation_id: conversation_id?,
        process: process?,
        sender: sender?,
        receiver,
        body_key: standard?,
        moved,
    })
}

/// A `digital` message's receiver: this provider, or a citizen's national id.
fn read_receiver(
    value: &str,
    path: &str,
    expect: &Expectations<'_>,
    problems: &mut Problems,
) -> Option<Receiver> {
    if value.contains(':') {
        return match organisation(value) {
            Ok(org_nr) if org_nr == *expect.provider => Some(Receiver::ThisProvider),
            Ok(org_nr) => {
                problems.add(
                    path,
                    format!(
                        "names mailbox provider {org_nr}, but this is mailbox provider {}: send the message to {org_nr}",
                        expect.provider
                    ),
                );
                None
            }
            Err(reason) => {
                problems.add(path, reason);
                None
            }
        };
    }
    match Fnr::parse_on(
        value,
        expect.synthetic_ids,
        crate::clock::norwegian_date(expect.now),
    ) {
        Ok(fnr) => Some(Receiver::Person(fnr)),
        Err(error) => {
            problems.add(
                path,
                format!(
                    "must be this mailbox provider (0192:{}) or the recipient's personidentifikator: {error}",
                    expect.provider
                ),
            );
            None
        }
    }
}

/// The identifier value of `sender[0]` or `receiver[0]`, with its path.
pub(super) fn first_party<'a>(
    header: &mut Fields<'a>,
    name: &'static str,
    problems: &mut Problems,
) -> Option<(&'a str, String)> {
    let path = header.path_of(name);
    let parties = header.required_value(name, problems)?;
    let Some(first) = parties.as_array().and_then(|parties| parties.first()) else {
        problems.add(&path, "must be an array with one party");
        return None;
    };
    let mut party = problems.object(first, &format!("{path}[0]"))?;
    let mut identifier = party.required_object("identifier", problems);
    party.finish(problems);
    let identifier = identifier.as_mut()?;
    match identifier.required_string("authority", problems) {
        Some(ACTOR_AUTHORITY) | None => {}
        Some(_) => problems.add(
            identifier.path_of("authority"),
            format!("must be \"{ACTOR_AUTHORITY}\""),
        ),
    }
    let value = identifier.required_string("value", problems);
    let value_path = identifier.path_of("value");
    Some((value?, value_path))
}

/// An organisation as a business message names it:
/// `{"authority": "iso6523-actorid-upis", "value": "0192:<orgnr>"}`.
pub fn identifier(org_nr: &OrgNr) -> Value {
    serde_json::json!({"authority": ACTOR_AUTHORITY, "value": org_nr.to_iso6523()})
}

/// An SBD header's sender or receiver: `{"identifier": ...}`.
pub fn party(org_nr: &OrgNr) -> Value {
    serde_json::json!({ "identifier": identifier(org_nr) })
}

/// `0192:<organisation number>` (ISO 6523 ICD 0192, Norway's register).
/// The legacy `9908:` prefix of old SDP messages is accepted too.
pub(super) fn organisation(value: &str) -> Result<OrgNr, String> {
    let number = value
        .strip_prefix("0192:")
        .or_else(|| value.strip_prefix("9908:"))
        .ok_or_else(|| "must be \"0192:\" followed by an organisation number".to_owned())?;
    OrgNr::parse(number).map_err(|error| error.to_string())
}

pub(super) fn uuid(text: &str, path: &str, problems: &mut Problems) -> Option<uuid::Uuid> {
    match uuid::Uuid::parse_str(text) {
        Ok(id) if !id.is_nil() => Some(id),
        _ => {
            problems.add(path, "must be a UUID");
            None
        }
    }
}

pub(super) fn read_scope(
    header: &mut Fields<'_>,
    problems: &mut Problems,
) -> (Option<Process>, Option<ConversationId>) {
    let Some(mut scope) = header.required_object("businessScope", problems) else {
        return (None, None);
    };
    let path = scope.path_of("scope");
    let scopes = scope.array("scope", problems);
    scope.finish(problems);
    let Some(scopes) = scopes else {
        problems.add(&path, "is required");
        return (None, None);
    };
    let mut result = (None, None);
    let mut found = false;
    for (index, entry) in scopes.iter().enumerate() {
        let Some(mut entry) = problems.object(entry, &format!("{path}[{index}]")) else {
            continue;
        };
        if entry.required_string("type", problems) != Some("ConversationId") {
            // Other scope types carry nothing Postkasse needs.
            entry.value("instanceIdentifier");
            entry.value("identifier");
            entry.value("scopeInformation");
            entry.finish(problems);
            continue;
        }
        found = true;
        let conversation_id = entry
            .required_string("instanceIdentifier", problems)
            .and_then(|id| uuid(id, &entry.path_of("instanceIdentifier"), problems))
            .map(ConversationId::from_uuid);
        let process = match entry.required_string("identifier", problems) {
            Some(PROCESS_DIGITAL | PROCESS_DECISION) => Some(Process::Decision),
            Some(PROCESS_INFORMATION) => Some(Process::Information),
            Some(PROCESS_PRINT) => Some(Process::Print),
            // A moved letter is not routed (it goes to the mailbox the
            // message names); it is kept as information, and only a
            // `flyttet` body may name this process (checked in `parse`).
            Some(PROCESS_MOVED) => Some(Process::Information),
            Some(_) => {
                problems.add(
                    entry.path_of("identifier"),
                    format!(
                        "must be one of {PROCESS_DIGITAL}, {PROCESS_DECISION}, {PROCESS_INFORMATION}, {PROCESS_PRINT}, {PROCESS_MOVED}"
                    ),
                );
                None
            }
            None => None,
        };
        // expectedResponseDateTime lives here; Postkasse does not use it.
        entry.value("scopeInformation");
        entry.finish(problems);
        result = (process, conversation_id);
    }
    if !found {
        problems.add(&path, "must contain a ConversationId scope");
    }
    result
}

/// What `digital` and `utskrift` share.
struct Common {
    sender: OrgNr,
    avsenderidentifikator: Option<String>,
    fingerprint: String,
    maskinportentoken: Option<String>,
}

fn read_common(body: &mut Fields<'_>, problems: &mut Problems) -> Option<Common> {
    let sender = body
        .required_object("avsender", problems)
        .and_then(|mut avsender| {
            let sender = avsender
                .required_object("virksomhetsidentifikator", problems)
                .and_then(|mut identifier| {
                    let authority_ok = match identifier.required_string("authority", problems) {
                        Some(ACTOR_AUTHORITY) => true,
                        Some(_) => {
                            problems.add(
                                identifier.path_of("authority"),
                                format!("must be \"{ACTOR_AUTHORITY}\""),
                            );
                            false
                        }
                        None => false,
                    };
                    let value = identifier.required_string("value", problems);
                    let path = identifier.path_of("value");
                    identifier.finish(problems);
                    match value.map(organisation) {
                        Some(Ok(org_nr)) if authority_ok => Some(org_nr),
                        Some(Err(reason)) => {
                            problems.add(path, reason);
                            None
                        }
                        _ => None,
                    }
                });
            let identifier = bounded_text(
                &mut avsender,
                "avsenderidentifikator",
                MAX_AVSENDERIDENTIFIKATOR_CHARS,
                false,
                problems,
            );
            bounded_text(&mut avsender, "fakturaReferanse", 40, false, problems);
            avsender.finish(problems);
            Some((sender?, identifier))
        });
    let fingerprint = body
        .required_object("dokumentpakkefingeravtrykk", problems)
        .and_then(|mut fingerprint| {
            match fingerprint.required_string("digestMethod", problems) {
                Some(SHA256_METHOD) | None => {}
                Some(_) => problems.add(
                    fingerprint.path_of("digestMethod"),
                    format!("must be {SHA256_METHOD}"),
                ),
            }
            let value = fingerprint.required_string("digestValue", problems);
            let path = fingerprint.path_of("digestValue");
            fingerprint.finish(problems);
            let value = value?;
            match base64::engine::general_purpose::STANDARD.decode(value) {
                Ok(bytes) if bytes.len() == 32 => Some(value.to_owned()),
                _ => {
                    problems.add(path, "must be the base64 SHA-256 of the dokumentpakke");
                    None
                }
            }
        });
    // Checked by its issuer's keys once the message is read.
    let maskinportentoken = body
        .string("maskinportentoken", problems)
        .map(str::to_owned);
    let (sender, avsenderidentifikator) = sender?;
    Some(Common {
        sender,
        avsenderidentifikator,
        fingerprint: fingerprint?,
        maskinportentoken,
    })
}

/// Optional (or required) text of at most `max` characters.
fn bounded_text(
    fields: &mut Fields<'_>,
    name: &'static str,
    max: usize,
    required: bool,
    problems: &mut Problems,
) -> Option<String> {
    let text = if required {
        fields.required_string(name, problems)
    } else {
        fields.string(name, problems)
    }?;
    match app::domain::letter::checked_text(text, max) {
        Ok(text) => Some(text),
        Err(error) => {
            problems.add(fields.path_of(name), error);
            None
        }
    }
}

/// Which of the two letter bodies is read: they share most fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LetterKind {
    Digital,
    Moved,
}

fn read_digital(
    mut body: Fields<'_>,
    receiver: Option<Receiver>,
    kind: LetterKind,
    expect: &Expectations<'_>,
    problems: &mut Problems,
) -> (Option<Body>, Option<Common>) {
    let common = read_common(&mut body, problems);
    let moved = (kind == LetterKind::Moved).then(|| read_moved(&mut body, problems));
    let postkasseadresse = body.object("mottaker", problems).and_then(|mut mottaker| {
        let address = bounded_text(&mut mottaker, "postkasseadresse", 100, false, problems);
        mottaker.finish(problems);
        address
    });
    let addressee = match receiver {
        Some(Receiver::Person(fnr)) => Some(Addressee::Person(fnr)),
        Some(Receiver::ThisProvider) => match &postkasseadresse {
            Some(address) => Some(Addressee::MailboxHere(address.clone())),
            None => {
                problems.add(
                    format!("{}.mottaker.postkasseadresse", body.path()),
                    "is required when the message is addressed to this mailbox provider",
                );
                None
            }
        },
        None => None,
    };
    let security_level = match body.integer("sikkerhetsnivaa", problems) {
        Some(number) => match SecurityLevel::try_from(number) {
            Ok(level) => Some(level),
            Err(_) => {
                problems.add(body.path_of("sikkerhetsnivaa"), "must be 3 or 4");
                None
            }
        },
        None => {
            if body.value("sikkerhetsnivaa").is_none() {
                problems.add(body.path_of("sikkerhetsnivaa"), "is required");
            }
            None
        }
    };
    let nonsensitive_title = body
        .required_string("ikkesensitivtittel", problems)
        .and_then(|text| match Title::parse(text) {
            Ok(title) => Some(title),
            Err(error) => {
                problems.add(body.path_of("ikkesensitivtittel"), error);
                None
            }
        });
    let language = body.required_string("spraak", problems).and_then(|code| {
        if code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_alphabetic()) {
            Some(code.to_ascii_lowercase())
        } else {
            problems.add(
                body.path_of("spraak"),
                "must be a two-letter ISO 639-1 code",
            );
            None
        }
    });
    let effective_at = read_effective_time(&mut body, expect.now, problems);
    let opening_receipt = body
        .boolean("aapningskvittering", problems)
        .unwrap_or(false);
    let notices = body
        .object("varsler", problems)
        .map(|varsler| read_notices(varsler, problems))
        .unwrap_or_default();
    let print_if_unread = body.object(PRINT_IF_UNREAD, problems).map(|order| {
        read_print_if_unread(order, expect.now, effective_at.ok().flatten(), problems)
    });
    body.finish(problems);
    let letter = (|| {
        Some(DigitalLetter {
            addressee: addressee?,
            postkasseadresse,
            security_level: security_level?,
            nonsensitive_title: nonsensitive_title?,
            language: language?,
            effective_at: effective_at.ok()?,
            opening_receipt,
            notices,
            print_if_unread: print_if_unread.transpose().ok()?,
        })
    })();
    let body = match moved {
        None => letter.map(Body::Digital),
        // Its notices were sent and its receipts given where it was first
        // delivered; here it only joins the archive.
        Some(moved) => (|| {
            let (received_at, opened) = moved?;
            Some(Body::Moved(MovedLetter {
                letter: DigitalLetter {
                    opening_receipt: false,
                    notices: OrderedNotices::default(),
                    print_if_unread: None,
                    ..letter?
                },
                received_at,
                opened,
            }))
        })(),
    };
    (body, common)
}

/// The key of Postkasse's print-if-unread extension in the `digital` body.
pub const PRINT_IF_UNREAD: &str = "utskriftHvisUlest";

/// `utskriftHvisUlest`: `frist` (RFC 3339, after now and any effective time,
/// at most [`MAX_EFFECTIVE_AHEAD_DAYS`] ahead), and optionally
/// `utskriftstype` and `posttype` as in `utskrift` (default black and white,
/// B post). The address is the citizen's in the population register when
/// the deadline comes.
fn read_print_if_unread(
    mut order: Fields<'_>,
    now: DateTime<Utc>,
    effective_at: Option<DateTime<Utc>>,
    problems: &mut Problems,
) -> Result<PrintIfUnread, ()> {
    let deadline = order.required_string("frist", problems).and_then(|text| {
        let Ok(at) = DateTime::parse_from_rfc3339(text) else {
            problems.add(
                order.path_of("frist"),
                "must be a date and time with zone (RFC 3339)",
            );
            return None;
        };
        let at = at.with_timezone(&Utc);
        let earliest = effective_at.map_or(now, |effective| effective.max(now));
        if at <= earliest {
            problems.add(
                order.path_of("frist"),
                "must be later than now and than the letter's effective time",
            );
            None
        } else if at > now + Duration::days(MAX_EFFECTIVE_AHEAD_DAYS) {
            problems.add(
                order.path_of("frist"),
                format!("must be at most {MAX_EFFECTIVE_AHEAD_DAYS} days ahead"),
            );
            None
        } else {
            Some(at)
        }
    });
    let colour = enumeration::<PrintColour>(&mut order, "utskriftstype", false, problems);
    let post_class = enumeration::<PostClass>(&mut order, "posttype", false, problems);
    order.finish(problems);
    Ok(PrintIfUnread {
        deadline: deadline.ok_or(())?,
        colour: colour.ok_or(())?.unwrap_or(PrintColour::BlackAndWhite),
        post_class: post_class.ok_or(())?.unwrap_or(PostClass::B),
    })
}

/// The `flyttet` body's own fields: when the letter was sent on, the day it
/// was first received, and whether it was opened.
fn read_moved(body: &mut Fields<'_>, problems: &mut Problems) -> Option<(DateTime<Utc>, bool)> {
    if let Some(at) = body.required_string("tidspunkt", problems) {
        if DateTime::parse_from_rfc3339(at).is_err() {
            problems.add(
                body.path_of("tidspunkt"),
                "must be a date and time with zone (RFC 3339)",
            );
        }
    }
    let received_at = body
        .required_string("mottakstidspunkt", problems)
        .and_then(|day| {
            match NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(start_of_day_in_norway)
            {
                Some(at) => Some(at),
                None => {
                    problems.add(
                        body.path_of("mottakstidspunkt"),
                        "must be a date (YYYY-MM-DD)",
                    );
                    None
                }
            }
        });
    let opened = body.boolean("aapnet", problems).unwrap_or(false);
    Some((received_at?, opened))
}

/// Midnight in Norway at the start of `day`: how a field that holds only a
/// date (`virkningsdato`, `mottakstidspunkt`) becomes a time.
fn start_of_day_in_norway(day: NaiveDate) -> Option<DateTime<Utc>> {
    Oslo.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|time| time.with_timezone(&Utc))
}

fn read_effective_time(
    body: &mut Fields<'_>,
    now: DateTime<Utc>,
    problems: &mut Problems,
) -> Result<Option<DateTime<Utc>>, ()> {
    let date = body.string("virkningsdato", problems);
    let time = body.string("virkningstidspunkt", problems);
    let parsed = match (date, time) {
        (Some(_), Some(_)) => {
            problems.add(
                body.path_of("virkningstidspunkt"),
                "must not be given together with virkningsdato",
            );
            return Err(());
        }
        (None, None) => return Ok(None),
        (Some(date), None) => NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .ok()
            .and_then(start_of_day_in_norway)
            .ok_or("virkningsdato"),
        (None, Some(time)) => DateTime::parse_from_rfc3339(time)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|_| "virkningstidspunkt"),
    };
    match parsed {
        Ok(at) if at > now + Duration::days(MAX_EFFECTIVE_AHEAD_DAYS) => {
            let name = if date.is_some() {
                "virkningsdato"
            } else {
                "virkningstidspunkt"
            };
            problems.add(
                body.path_of(name),
                format!("must be at most {MAX_EFFECTIVE_AHEAD_DAYS} days ahead"),
            );
            Err(())
        }
        Ok(at) => Ok(Some(at)),
        Err(name) => {
            let expected = if name == "virkningsdato" {
                "must be a date (YYYY-MM-DD)"
            } else {
                "must be a date and time with zone (RFC 3339)"
            };
            problems.add(body.path_of(name), expected);
            Err(())
        }
    }
}

fn read_notices(mut varsler: Fields<'_>, problems: &mut Problems) -> OrderedNotices {
    let email = varsler
        .object("epostvarsel", problems)
        .and_then(|mut notice| {
            let address = notice
                .required_string("epostadresse", problems)
                .and_then(
                    |address| match crate::krr::contact::EmailAddress::parse(address) {
                        Ok(_) => Some(address.trim().to_owned()),
                        Err(error) => {
                            problems.add(notice.path_of("epostadresse"), error);
                            None
                        }
                    },
                );
            let text = notice_text(&mut notice, 500, problems);
            let repetitions = repetitions(&mut notice, problems);
            notice.finish(problems);
            Some(OrderedNotice {
                address: address?,
                text: text?,
                repetitions: repetitions?,
            })
        });
    let sms = varsler
        .object("smsvarsel", problems)
        .and_then(|mut notice| {
            let number = notice
                .required_string("mobiltelefonnummer", problems)
                .and_then(|number| {
                    let shape_ok = (8..=20).contains(&number.chars().count())
                        && number
                            .strip_prefix('+')
                            .unwrap_or(number)
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-' || c == '_');
                    if shape_ok {
                        Some(number.to_owned())
                    } else {
                        problems.add(
                        notice.path_of("mobiltelefonnummer"),
                        "must be 8 to 20 characters: digits, spaces, - or _, optionally after +",
                    );
                        None
                    }
                });
            let text = notice_text(&mut notice, 160, problems);
            let repetitions = repetitions(&mut notice, problems);
            notice.finish(problems);
            Some(OrderedNotice {
                address: number?,
                text: text?,
                repetitions: repetitions?,
            })
        });
    varsler.finish(problems);
    OrderedNotices { email, sms }
}

/// `varslingstekst`: no links, because notices travel unencrypted and links
/// in them are a fraud risk (docs/protocol.md#notices).
fn notice_text(notice: &mut Fields<'_>, max: usize, problems: &mut Problems) -> Option<String> {
    let text = notice.required_string("varslingstekst", problems)?;
    let path = notice.path_of("varslingstekst");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        problems.add(path, TextError::Empty);
        return None;
    }
    if trimmed.chars().count() > max {
        problems.add(path, TextError::TooLong { max });
        return None;
    }
    if contains_link(trimmed) {
        problems.add(path, "must not contain a link or web address");
        return None;
    }
    Some(trimmed.to_owned())
}

fn repetitions(notice: &mut Fields<'_>, problems: &mut Problems) -> Option<Vec<u8>> {
    let path = notice.path_of("repetisjoner");
    let Some(items) = notice.array("repetisjoner", problems) else {
        if notice.value("repetisjoner").is_none() {
            problems.add(path, "is required");
        }
        return None;
    };
    if items.is_empty() || items.len() > 10 {
        problems.add(path, "must have 1 to 10 days");
        return None;
    }
    let mut days = Vec::with_capacity(items.len());
    for item in items {
        match item.as_u64().filter(|day| *day <= 25) {
            Some(day) if !days.contains(&(day as u8)) => days.push(day as u8),
            Some(_) => {
                problems.add(&path, "must not repeat a day");
                return None;
            }
            None => {
                problems.add(&path, "must be whole days from 0 to 25");
                return None;
            }
        }
    }
    days.sort_unstable();
    Some(days)
}

fn read_print(mut body: Fields<'_>, problems: &mut Problems) -> (Option<Body>, Option<Common>) {
    let common = read_common(&mut body, problems);
    let address = postal_address(&mut body, "mottaker", problems);
    let colour = enumeration::<PrintColour>(&mut body, "utskriftstype", true, problems);
    let post_class = enumeration::<PostClass>(&mut body, "posttype", false, problems);
    let retur = body.required_object("retur", problems).map(|mut retur| {
        let address = postal_address(&mut retur, "mottaker", problems);
        let handling =
            enumeration::<ReturnHandling>(&mut retur, "returposthaandtering", true, problems);
        retur.finish(problems);
        (address, handling)
    });
    body.finish(problems);
    let order = (|| {
        let (return_address, return_handling) = retur?;
        Some(PrintOrder {
            address: address?,
            colour: colour??,
            post_class: post_class?.unwrap_or(PostClass::B),
            return_address: Some(return_address?),
            return_handling: return_handling??,
        })
    })();
    (order.map(Body::Print), common)
}

fn postal_address(
    fields: &mut Fields<'_>,
    name: &'static str,
    problems: &mut Problems,
) -> Option<crate::print::PostalAddress> {
    let path = fields.path_of(name);
    let value = fields.required_value(name, problems)?;
    let raw: RawPostalAddress = match serde_path_to_error::deserialize(value) {
        Ok(raw) => raw,
        Err(error) => {
            problems.add(
                format!("{path}.{}", error.path()).trim_end_matches(".."),
                error.inner().to_string(),
            );
            return None;
        }
    };
    match raw.parse(&path) {
        Ok(address) => Some(address),
        Err(found) => {
            for (field, reason) in found {
                problems.add(field, reason);
            }
            None
        }
    }
}

/// An enumerated field: `Some(None)` when optional and absent, `None` when bad.
fn enumeration<T: serde::de::DeserializeOwned>(
    fields: &mut Fields<'_>,
    name: &'static str,
    required: bool,
    problems: &mut Problems,
) -> Option<Option<T>> {
    let value = if required {
        fields.required_value(name, problems)?
    } else {
        match fields.value(name) {
            Some(value) => value,
            None => return Some(None),
        }
    };
    match serde_json::from_value::<T>(value.clone()) {
        Ok(parsed) => Some(Some(parsed)),
        Err(_) => {
            problems.add(
                fields.path_of(name),
                format!("{value} is not one of the allowed values"),
            );
            None
        }
    }
}
