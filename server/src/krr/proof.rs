//! Proving a new e-mail address or mobile number before it enters the
//! register: a six-digit code goes to the new address through the notice
//! channels, and only that code, typed back within [`CODE_VALID_FOR`],
//! stores the address as confirmed and starts its 18 months (see
//! [`super::rules`]). The 18-month rule then rests on proof that the
//! address reaches the citizen, not on a click.
//!
//! Limits, per person: a code may be typed [`TRIES`] times, each try
//! counted before the code is compared (so guesses sent at once cannot pass
//! the limit), and at most [`CODES_PER_HOUR`] codes are sent in an hour: at
//! most 25 guesses an hour at a one-in-a-million code, and nobody can use
//! the form to flood someone else's phone. The code is kept only as a
//! digest, and neither it nor the address is ever logged.

use super::{
    contact::{EmailAddress, MobileNumber},
    person::SelfServiceChange,
};
use app::domain::{Fnr, Language, NoticeChannel};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// How long a code may be typed back.
pub const CODE_VALID_FOR: Duration = Duration::minutes(15);

/// How many times a code may be typed: after five wrong ones, even the
/// right one is refused, and the citizen asks for a new code.
pub const TRIES: u32 = 5;

/// Codes one person may be sent in an hour, over both channels.
pub const CODES_PER_HOUR: u32 = 5;

/// Codes older than this are of no use to anyone and are removed whenever
/// a new one is sent (the hour's count needs only the last hour).
pub const KEPT_FOR: Duration = Duration::days(1);

/// An address waiting to be proven.
#[derive(Clone, PartialEq, Eq)]
pub enum NewAddress {
    Email(EmailAddress),
    Mobile(MobileNumber),
}

impl NewAddress {
    pub fn channel(&self) -> NoticeChannel {
        match self {
            NewAddress::Email(_) => NoticeChannel::Email,
            NewAddress::Mobile(_) => NoticeChannel::Sms,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            NewAddress::Email(email) => email.as_str(),
            NewAddress::Mobile(mobile) => mobile.as_str(),
        }
    }

    /// The register change that stores this address, once proven.
    pub fn change(&self) -> SelfServiceChange {
        match self {
            NewAddress::Email(email) => SelfServiceChange::Email(Some(email.clone())),
            NewAddress::Mobile(mobile) => SelfServiceChange::Mobile(Some(mobile.clone())),
        }
    }

    /// The stored address again, as the channel's type; `None` if it no
    /// longer parses (which a stored one always does).
    pub fn stored(channel: NoticeChannel, address: &str) -> Option<NewAddress> {
        match channel {
            NoticeChannel::Email => EmailAddress::parse(address).ok().map(NewAddress::Email),
            NoticeChannel::Sms => MobileNumber::parse(address).ok().map(NewAddress::Mobile),
        }
    }
}

impl fmt::Debug for NewAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewAddress({:?}, <redacted>)", self.channel())
    }
}

/// Six decimal digits, as typed or as made.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    /// A fresh code from the operating system's random source, each of the
    /// million equally likely.
    pub fn generate() -> OneTimeCode {
        use rand::Rng;
        OneTimeCode(format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000)))
    }

    /// What the citizen typed, with spaces (as in "123 456") allowed.
    pub fn parse(input: &str) -> Option<OneTimeCode> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(OneTimeCode(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored instead of the code: SHA-256 of the proof's id and the
    /// code, so equal codes of different proofs differ.
    pub fn digest(&self, proof: Uuid) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(proof.as_bytes());
        hasher.update(self.0.as_bytes());
        hasher.finalize().to_vec()
    }

    /// Whether this is the code of `proof`, compared in constant time.
    pub fn matches(&self, proof: &ContactProof) -> bool {
        use subtle::ConstantTimeEq;
        self.digest(proof.id).ct_eq(&proof.code_sha256).into()
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(<redacted>)")
    }
}

/// A code that was sent, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ContactProof {
    pub id: Uuid,
    pub fnr: Fnr,
    pub address: NewAddress,
    pub code_sha256: Vec<u8>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Codes typed for this one so far.
    pub tries: u32,
}

impl fmt::Debug for ContactProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactProof")
            .field("id", &self.id)
            .field("channel", &self.address.channel())
            .field("tries", &self.tries)
            .finish_non_exhaustive()
    }
}

impl ContactProof {
    /// A new proof for `address` and the code that proves it.
    pub fn new(fnr: Fnr, address: NewAddress, now: DateTime<Utc>) -> (ContactProof, OneTimeCode) {
        let id = Uuid::new_v4();
        let code = OneTimeCode::generate();
        let proof = ContactProof {
            id,
            fnr,
            address,
            code_sha256: code.digest(id),
            sent_at: now,
            expires_at: now + CODE_VALID_FOR,
            tries: 0,
        };
        (proof, code)
    }

    pub fn tries_left(&self) -> u32 {
        TRIES.saturating_sub(self.tries)
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// The message that carries a code, in the citizen's language as the
/// register has it, as notices are: bokmål, nynorsk or English, and bokmål
/// for Northern Sami or no language on record.
pub fn code_message(
    code: &OneTimeCode,
    channel: NoticeChannel,
    language: Option<Language>,
) -> String {
    let minutes = CODE_VALID_FOR.num_minutes();
    let code = code.as_str();
    match language {
        Some(Language::Nynorsk) => {
            let what = match channel {
                NoticeChannel::Email => "e-postadressa",
                NoticeChannel::Sms => "mobilnummeret",
            };
            format!(
                "Koden for å stadfeste {what} i Postkasse er {code}. Han gjeld i {minutes} minutt. \
                 Har du ikkje bede om han, kan du sjå bort frå meldinga."
            )
        }
        Some(Language::English) => {
            let what = match channel {
                NoticeChannel::Email => "e-mail address",
                NoticeChannel::Sms => "mobile number",
            };
            format!(
                "Your code to confirm your {what} in Postkasse is {code}. It is valid for {minutes} \
                 minutes. If you did not ask for it, you can ignore this message."
            )
        }
        Some(Language::Bokmaal | Language::Sami) | None => {
            let what = match channel {
                NoticeChannel::Email => "e-postadressen",
                NoticeChannel::Sms => "mobilnummeret",
            };
            format!(
                "Koden for å bekrefte {what} i Postkasse er {code}. Den gjelder i {minutes} minutter. \
                 Har du ikke bedt om den, kan du se bort fra meldingen."
            )
        }
    }
}

/// Why a code did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// The channel refused the address: it will not work however often tried.
    Refused,
    /// The channel could not be reached now.
    Unavailable,
}

/// Carries a short message to an address now, through the notice channels:
/// the code that proves a new address, the notice that a power of attorney
/// was given.
#[async_trait]
pub trait Courier: Send + Sync + 'static {
    /// Sends `text` to `address` now; `key` identifies this message to the
    /// channel, as a notice's idempotency key does.
    async fn send_now(
        &self,
        key: Uuid,
        channel: NoticeChannel,
        address: &str,
        text: &str,
    ) -> Result<(), NotSent>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(now: DateTime<Utc>) -> (ContactProof, OneTimeCode) {
        let born = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let fnr = (100..200)
            .find_map(|individual| Fnr::synthetic(born, individual))
            .unwrap();
        ContactProof::new(
            fnr,
            NewAddress::Email(EmailAddress::parse("kari@example.no").unwrap()),
            now,
        )
    }

    #[test]
    fn codes_are_six_digits_and_typed_codes_may_have_spaces() {
        for _ in 0..100 {
            let code = OneTimeCode::generate();
            assert_eq!(OneTimeCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(
            OneTimeCode::parse(" 012 345 ").map(|code| code.as_str().to_owned()),
            Some("012345".to_owned())
        );
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert_eq!(OneTimeCode::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_its_own_code_matches_a_proof_until_it_expires() {
        let now = Utc::now();
        let (mut proof, code) = proof(now);
        let wrong = OneTimeCode::parse(if code.as_str() == "000000" {
            "000001"
        } else {
            "000000"
        })
        .unwrap();
        assert!(code.matches(&proof));
        assert!(!wrong.matches(&proof));
        assert!(!proof.is_expired(now + CODE_VALID_FOR - Duration::seconds(1)));
        assert!(proof.is_expired(now + CODE_VALID_FOR));
        proof.tries = TRIES - 1;
        assert_eq!(proof.tries_left(), 1);
        proof.tries = TRIES + 3;
        assert_eq!(proof.tries_left(), 0);
    }

    #[test]
    fn the_digest_depends_on_the_proof() {
        let code = OneTimeCode::parse("123456").unwrap();
        assert_ne!(code.digest(Uuid::new_v4()), code.digest(Uuid::new_v4()));
        assert_eq!(code.digest(Uuid::nil()).len(), 32);
    }

    #[test]
    fn debug_output_hides_code_and_address() {
        let (proof, code) = proof(Utc::now());
        let printed = format!("{proof:?} {code:?} {:?}", proof.address);
        assert!(!printed.contains(code.as_str()));
        assert!(!printed.contains("kari"));
    }

    #[test]
    fn the_message_carries_the_code_and_no_link_in_the_citizens_language() {
        let code = OneTimeCode::parse("482913").unwrap();
        for (language, words) in [
            (None, "15 minutter"),
            (Some(Language::Sami), "15 minutter"),
            (Some(Language::Nynorsk), "15 minutt."),
            (Some(Language::English), "15 minutes"),
        ] {
            let text = code_message(&code, NoticeChannel::Sms, language);
            assert!(text.contains("482913"), "{text}");
            assert!(text.contains(words), "{language:?}: {text}");
            assert!(
                !text.contains("http"),
                "a code message never carries a link"
            );
            assert!(text.chars().count() <= 160, "one SMS: {text}");
        }
    }
}
