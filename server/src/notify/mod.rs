//! Notifications (*varsling*): telling citizens by e-mail or SMS that a letter
//! has arrived, in the daytime, once per letter, channel and day, and only
//! while the letter is unopened (docs/protocol.md#notices).
//!
//! Two kinds of notice are scheduled when a letter is committed: the ones the
//! sender ordered (`varsler`, with `repetisjoner` in days from the effective
//! time) and the citizen's own (a day-0 notice for every new letter, chosen in
//! Settings). Sender-ordered notices are added to the citizen's own; a job is
//! unique per (letter, channel, day), so the two never make a second notice.
//!
//! Jobs are durable rows (see [`Store`]), leased by [`worker::NotifyWorker`]s.
//! Each job's id is its idempotency key, handed to the gateway with every
//! attempt: a worker that dies after sending but before recording leaves the
//! lease to expire, and the worker that takes the job over resends with the
//! same key, which the gateway (and the sink) recognise.

pub mod channels;
mod preferences;
pub mod schedule;
mod store;
pub mod worker;

pub use app::domain::NoticeChannel;
use app::domain::{Fnr, Language, Title};
use chrono::{DateTime, Utc};
pub use preferences::Preferences;
pub use store::Store;
use uuid::Uuid;

/// The stored code of a channel.
pub fn channel_code(channel: NoticeChannel) -> &'static str {
    match channel {
        NoticeChannel::Email => "epost",
        NoticeChannel::Sms => "sms",
    }
}

pub fn parse_channel(code: &str) -> Option<NoticeChannel> {
    match code {
        "epost" => Some(NoticeChannel::Email),
        "sms" => Some(NoticeChannel::Sms),
        _ => None,
    }
}

/// Who asked for a notice; only the sender is told when it cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderedBy {
    Sender,
    Citizen,
}

impl OrderedBy {
    pub fn code(self) -> &'static str {
        match self {
            OrderedBy::Sender => "avsender",
            OrderedBy::Citizen => "innbygger",
        }
    }

    pub fn parse(code: &str) -> Option<OrderedBy> {
        match code {
            "avsender" => Some(OrderedBy::Sender),
            "innbygger" => Some(OrderedBy::Citizen),
            _ => None,
        }
    }
}

/// A notice the sender ordered (`epostvarsel` or `smsvarsel`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderedNotice {
    /// `epostadresse` or `mobiltelefonnummer` as the sender gave it.
    pub address: String,
    pub text: String,
    /// `repetisjoner`: days after the effective time.
    pub repetitions: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderedNotices {
    pub email: Option<OrderedNotice>,
    pub sms: Option<OrderedNotice>,
}

/// Whether the text has a link or web address in it: the sender may not put
/// one in a notice, and the citizen's own notice leaves such a title out (a
/// notice with a link is what phishing looks like).
pub fn contains_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("://")
        || lower.contains("www.")
        || lower.split_whitespace().any(|word| {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric());
            // A bare domain such as `example.no/login` or `nav.no`.
            word.split_once('.').is_some_and(|(name, rest)| {
                !name.is_empty()
                    && rest.split(['/', '?']).next().is_some_and(|tld| {
                        tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                    })
            })
        })
}

/// Where a channel's notices go, as the settings choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeRoute {
    /// Stored and listed by `postkasse notices`, never sent (development).
    Sink,
    /// E-mail over SMTP.
    Smtp,
    /// SMS through the generic HTTP gateway.
    Http,
}

/// A notice to schedule with a letter, committed in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub channel: NoticeChannel,
    pub day: u8,
    pub ordered_by: OrderedBy,
    pub wording: Wording,
    pub due_at: DateTime<Utc>,
    pub purpose: NoticePurpose,
}

/// What a notice is about, which says when it is no longer needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticePurpose {
    /// The letter: skipped once the citizen has opened it.
    Letter,
    /// The letter's reply form: skipped once the citizen has answered it.
    Reply,
    /// A signer's turn in the letter's signing order: skipped once it is no
    /// longer theirs (signed, declined, or the job ended).
    Signing,
}

impl NoticePurpose {
    pub fn code(self) -> &'static str {
        match self {
            NoticePurpose::Letter => "brev",
            NoticePurpose::Reply => "svar",
            NoticePurpose::Signing => "signering",
        }
    }
}

impl NewNotice {
    /// Whether the notice is to be sent, given the recipient's preference as
    /// it stands when the letter is committed: the sender's notices always
    /// are (the sender ordered them); the citizen's own only on the channels
    /// the citizen asked for.
    pub fn is_wanted(&self, preference: Option<&NoticePreference>) -> bool {
        match self.ordered_by {
            OrderedBy::Sender => true,
            OrderedBy::Citizen => {
                preference.is_some_and(|preference| preference.wants(self.channel))
            }
        }
    }
}

/// A claimed notice job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeJob {
    /// Also the idempotency key of every attempt.
    pub id: Uuid,
    pub letter_id: Uuid,
    pub message_row: Uuid,
    pub recipient: Fnr,
    pub channel: NoticeChannel,
    pub day: u8,
    pub ordered_by: OrderedBy,
    pub wording: Wording,
    /// Including this one.
    pub attempts: u32,
}

/// How an attempt at a notice ended.
#[derive(Debug, Clone)]
pub enum NoticeOutcome {
    Sent,
    /// Not sent, and nobody is to be told (the citizen's own notice without
    /// a usable address).
    Skipped(String),
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Not sent; the sender gets a `varslingfeiletkvittering`, pushed to its
    /// callback too when `push` is set.
    Failed {
        error: String,
        receipt: Option<SenderReceipt>,
    },
}

/// A receipt for the sender of the letter a notice came with, queued in the
/// transaction that records the notice's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReceipt {
    pub id: Uuid,
    /// The business document's kind: `varslingfeiletkvittering`.
    pub kind: &'static str,
    pub document: String,
    pub created_at: DateTime<Utc>,
    /// Whether it is also pushed to the sender's callback.
    pub push: bool,
}

/// What the sender is told when a notice they ordered cannot be sent: DPI's
/// `varslingfeiletkvittering`. The broker makes it (`broker::ReceiptIssuer`),
/// since it knows the message and the agency.
#[async_trait::async_trait]
pub trait SenderReceipts: Send + Sync + 'static {
    async fn notice_failed(
        &self,
        message_row: Uuid,
        channel: NoticeChannel,
        description: &str,
    ) -> anyhow::Result<SenderReceipt>;
}

/// The citizen's own choice of notices for every new letter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticePreference {
    pub email: bool,
    pub sms: bool,
}

impl NoticePreference {
    pub fn wants(&self, channel: NoticeChannel) -> bool {
        match channel {
            NoticeChannel::Email => self.email,
            NoticeChannel::Sms => self.sms,
        }
    }
}

/// What the development sink "sent".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkNotice {
    pub key: Uuid,
    pub channel: NoticeChannel,
    pub address: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// A notice job as stored, for tests and diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeState {
    pub channel: NoticeChannel,
    pub day: u8,
    pub ordered_by: OrderedBy,
    pub due_at: DateTime<Utc>,
    pub attempts: u32,
    /// `sent`, `skipped` or `failed`; `None` while waiting.
    pub outcome: Option<String>,
}

/// The longest SMS text, one segment (also checked at ingest).
pub const MAX_SMS_CHARS: usize = 160;

/// What a notice says, kept by its meaning so that the worker words it in
/// the citizen's language (KRR's `spraak`) when it sends: bokmål, nynorsk
/// or English, and bokmål for Northern Sami (which Postkasse has no words
/// in yet) or no language on record. The sender's own text goes as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wording {
    /// A notice the sender ordered, in its words.
    Sender { text: String },
    /// The citizen's own notice of a new letter, naming its non-sensitive
    /// title (left out when it looks like a web address).
    NewLetter { title: String },
    /// A print-if-unread deadline is coming.
    PrintReminder { deadline: DateTime<Utc> },
    /// A reply form's deadline is coming.
    ReplyReminder { deadline: DateTime<Utc> },
    /// A signer's turn in a signing order.
    SigningTurn { deadline: DateTime<Utc> },
}

/// The languages notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoticeLanguage {
    Bokmaal,
    Nynorsk,
    English,
}

impl NoticeLanguage {
    fn of(language: Option<Language>) -> NoticeLanguage {
        match language {
            Some(Language::Nynorsk) => NoticeLanguage::Nynorsk,
            Some(Language::English) => NoticeLanguage::English,
            Some(Language::Bokmaal | Language::Sami) | None => NoticeLanguage::Bokmaal,
        }
    }
}

impl Wording {
    /// The notice's text in `language`, fitted to `channel` (an SMS is one
    /// segment).
    pub fn text(&self, language: Option<Language>, channel: NoticeChannel) -> String {
        use NoticeLanguage::{Bokmaal, English, Nynorsk};
        let language = NoticeLanguage::of(language);
        let deadline_words = |deadline: &DateTime<Utc>| deadline_in_words(*deadline, language);
        match self {
            Wording::Sender { text } => text.clone(),
            Wording::NewLetter { title } => new_letter_text(title, language, channel),
            Wording::PrintReminder { deadline } => {
                let deadline = deadline_words(deadline);
                match language {
                    Bokmaal => format!("Påminnelse: Du har et ulest brev i Postkasse. Åpnes det ikke innen {deadline}, sendes det til deg i posten."),
                    Nynorsk => format!("Påminning: Du har eit ulese brev i Postkasse. Blir det ikkje opna innan {deadline}, blir det sendt til deg i posten."),
                    English => format!("Reminder: You have an unread letter in Postkasse. If it is not opened by {deadline}, it will be sent to you by post."),
                }
            }
            Wording::ReplyReminder { deadline } => {
                let deadline = deadline_words(deadline);
                match language {
                    Bokmaal => format!(
                        "Påminnelse: Et brev i Postkasse venter på svar fra deg innen {deadline}."
                    ),
                    Nynorsk => format!(
                        "Påminning: Eit brev i Postkasse ventar på svar frå deg innan {deadline}."
                    ),
                    English => format!(
                        "Reminder: A letter in Postkasse is waiting for your reply by {deadline}."
                    ),
                }
            }
            Wording::SigningTurn { deadline } => {
                let deadline = deadline_words(deadline);
                match language {
                    Bokmaal => format!("Et dokument venter på din signatur i Postkasse. Logg inn og signer innen {deadline}."),
                    Nynorsk => format!("Eit dokument ventar på signaturen din i Postkasse. Logg inn og signer innan {deadline}."),
                    English => format!("A document is waiting for your signature in Postkasse. Log in and sign by {deadline}."),
                }
            }
        }
    }

    /// The text in bokmål, as stored beside the wording for diagnosis.
    pub fn bokmaal(&self, channel: NoticeChannel) -> String {
        self.text(None, channel)
    }
}

/// The citizen's own notice: the letter's non-sensitive title only, and no
/// link. A title that looks like a web address is left out; in an SMS a
/// long title is cut so the text is one segment.
fn new_letter_text(title: &str, language: NoticeLanguage, channel: NoticeChannel) -> String {
    let (plain, lead, open, close) = match language {
        NoticeLanguage::Bokmaal => (
            "Du har fått et nytt brev i Postkasse.",
            "Du har fått et nytt brev i Postkasse: ",
            '«',
            '»',
        ),
        NoticeLanguage::Nynorsk => (
            "Du har fått eit nytt brev i Postkasse.",
            "Du har fått eit nytt brev i Postkasse: ",
            '«',
            '»',
        ),
        NoticeLanguage::English => (
            "You have a new letter in Postkasse.",
            "You have a new letter in Postkasse: ",
            '“',
            '”',
        ),
    };
    if contains_link(title) {
        return plain.to_owned();
    }
    let text = format!("{lead}{open}{title}{close}.");
    match channel {
        NoticeChannel::Sms if text.chars().count() > MAX_SMS_CHARS => {
            let mut short: String = text.chars().take(MAX_SMS_CHARS - 2).collect();
            short.push(close);
            short.push('…');
            short
        }
        _ => text,
    }
}

/// The citizen's own notice of a new letter.
pub fn citizen_notice(nonsensitive_title: &Title) -> Wording {
    Wording::NewLetter {
        title: nonsensitive_title.as_str().to_owned(),
    }
}

/// The notices a new letter gets: the sender's, each on its repetition day,
/// then the citizen's own day-0 notice per channel (kept only where the
/// citizen chose it, and only if the sender has no day-0 notice there).
pub fn notices_for_letter(
    ordered: &OrderedNotices,
    nonsensitive_title: &Title,
    effective: DateTime<Utc>,
    window: &schedule::DayWindow,
) -> Vec<NewNotice> {
    let mut notices = Vec::new();
    for (channel, notice) in [
        (NoticeChannel::Email, &ordered.email),
        (NoticeChannel::Sms, &ordered.sms),
    ] {
        let Some(notice) = notice else { continue };
        let mut days = notice.repetitions.clone();
        days.sort_unstable();
        days.dedup();
        for day in days {
            notices.push(NewNotice {
                channel,
                day,
                ordered_by: OrderedBy::Sender,
                wording: Wording::Sender {
                    text: notice.text.clone(),
                },
                due_at: window.due(effective, day),
                purpose: NoticePurpose::Letter,
            });
        }
    }
    for channel in [NoticeChannel::Email, NoticeChannel::Sms] {
        notices.push(NewNotice {
            channel,
            day: 0,
            ordered_by: OrderedBy::Citizen,
            wording: citizen_notice(nonsensitive_title),
            due_at: window.due(effective, 0),
            purpose: NoticePurpose::Letter,
        });
    }
    // An evening letter's day-0 notice moves to the next morning, where a
    // day-1 repetition may already be: one notice per channel and day.
    let mut days_taken = std::collections::HashSet::new();
    notices.retain(|notice| {
        days_taken.insert((
            channel_code(notice.channel),
            window.local_date(notice.due_at),
        ))
    });
    notices
}

/// A deadline as notices write it: Norwegian time, "07.12.2026 kl. 14:00"
/// ("07.12.2026 at 14:00" in English).
fn deadline_in_words(deadline: DateTime<Utc>, language: NoticeLanguage) -> String {
    let format = match language {
        NoticeLanguage::Bokmaal | NoticeLanguage::Nynorsk => "%d.%m.%Y kl. %H:%M",
        NoticeLanguage::English => "%d.%m.%Y at %H:%M",
    };
    deadline
        .with_timezone(&chrono_tz::Europe::Oslo)
        .format(format)
        .to_string()
}

/// What a deadline's reminders are for, which gives their words and when
/// they stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// A print-if-unread deadline: sent only while the letter is unopened
    /// (as every notice about a letter).
    PrintIfUnread,
    /// A reply form's deadline: sent only while the form is unanswered
    /// (opening the letter does not stop them).
    Reply,
}

impl Reminder {
    fn purpose(self) -> NoticePurpose {
        match self {
            Reminder::PrintIfUnread => NoticePurpose::Letter,
            Reminder::Reply => NoticePurpose::Reply,
        }
    }

    fn wording(self, deadline: DateTime<Utc>) -> Wording {
        match self {
            Reminder::PrintIfUnread => Wording::PrintReminder { deadline },
            Reminder::Reply => Wording::ReplyReminder { deadline },
        }
    }
}

/// The reminders before a deadline: an e-mail two days before and an SMS
/// the day before, in the daytime window, only where one falls after the
/// letter is available and before the deadline. They count as ordered by
/// the sender, who set the deadline; a reminder on a day the letter already
/// has a notice on that channel is left out.
pub fn reminders(
    reminder: Reminder,
    existing: &[NewNotice],
    deadline: DateTime<Utc>,
    available: DateTime<Utc>,
    window: &schedule::DayWindow,
) -> Vec<NewNotice> {
    let (wording, purpose) = (reminder.wording(deadline), reminder.purpose());
    let first_day = window.local_date(available);
    [
        (NoticeChannel::Email, chrono::Duration::days(2)),
        (NoticeChannel::Sms, chrono::Duration::days(1)),
    ]
    .into_iter()
    .filter_map(|(channel, before)| {
        let due_at = window.due(deadline - before, 0);
        if due_at <= available || due_at >= deadline {
            return None;
        }
        let day = (window.local_date(due_at) - first_day).num_days();
        let day = u8::try_from(day).ok().filter(|day| *day > 0)?;
        let taken = existing
            .iter()
            .any(|notice| notice.channel == channel && notice.day == day);
        (!taken).then(|| NewNotice {
            channel,
            day,
            ordered_by: OrderedBy::Sender,
            wording: wording.clone(),
            due_at,
            purpose,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_come_by_email_then_sms_before_the_deadline_in_the_daytime() {
        let window = schedule::DayWindow::new(
            chrono_tz::Europe::Oslo,
            chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        )
        .unwrap();
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        // Available Monday 7 December 10:00, printed Friday 11 December 12:00 if unread.
        let made = reminders(
            Reminder::PrintIfUnread,
            &[],
            at("2026-12-11T12:00:00+01:00"),
            at("2026-12-07T10:00:00+01:00"),
            &window,
        );
        let when: Vec<(NoticeChannel, u8, DateTime<Utc>)> = made
            .iter()
            .map(|notice| (notice.channel, notice.day, notice.due_at))
            .collect();
        assert_eq!(
            when,
            [
                (NoticeChannel::Email, 2, at("2026-12-09T12:00:00+01:00")),
                (NoticeChannel::Sms, 3, at("2026-12-10T12:00:00+01:00")),
            ]
        );
        assert!(made[0]
            .wording
            .bokmaal(NoticeChannel::Email)
            .contains("11.12.2026 kl. 12:00"));
        // A deadline the next morning leaves no room for the e-mail, and an
        // SMS already ordered for that day is not doubled.
        let existing = [NewNotice {
            channel: NoticeChannel::Sms,
            day: 1,
            ordered_by: OrderedBy::Sender,
            wording: Wording::Sender {
                text: String::new(),
            },
            due_at: at("2026-12-08T09:00:00+01:00"),
            purpose: NoticePurpose::Letter,
        }];
        assert!(reminders(
            Reminder::PrintIfUnread,
            &existing,
            at("2026-12-08T20:00:00+01:00"),
            at("2026-12-07T10:00:00+01:00"),
            &window,
        )
        .is_empty());
    }

    #[test]
    fn the_citizens_own_notices_follow_the_preference_and_the_senders_always_go() {
        let notice = |channel, ordered_by| NewNotice {
            channel,
            day: 0,
            ordered_by,
            wording: Wording::Sender {
                text: String::new(),
            },
            due_at: Utc::now(),
            purpose: NoticePurpose::Letter,
        };
        let email_only = NoticePreference {
            email: true,
            sms: false,
        };
        let own_email = notice(NoticeChannel::Email, OrderedBy::Citizen);
        let own_sms = notice(NoticeChannel::Sms, OrderedBy::Citizen);
        assert!(own_email.is_wanted(Some(&email_only)));
        assert!(!own_sms.is_wanted(Some(&email_only)));
        assert!(!own_email.is_wanted(None), "no preference, no own notices");
        assert!(notice(NoticeChannel::Sms, OrderedBy::Sender).is_wanted(None));
    }

    #[test]
    fn the_citizens_notice_names_only_the_nonsensitive_title_and_fits_an_sms() {
        let text = |title: &str, language, channel| {
            citizen_notice(&Title::parse(title).unwrap()).text(language, channel)
        };
        assert_eq!(
            text("Brev fra Skatteetaten", None, NoticeChannel::Email),
            "Du har fått et nytt brev i Postkasse: «Brev fra Skatteetaten»."
        );
        let long = "Vedtak ".repeat(30);
        for language in [None, Some(Language::Nynorsk), Some(Language::English)] {
            let sms = text(&long, language, NoticeChannel::Sms);
            assert!(sms.chars().count() <= MAX_SMS_CHARS, "{sms}");
            assert!(sms.ends_with('…'), "{sms}");
            assert!(!text("Se nav.no/brev", language, NoticeChannel::Sms).contains("nav.no"));
        }
    }

    #[test]
    fn notices_are_worded_in_the_citizens_language_and_bokmaal_otherwise() {
        let deadline = DateTime::parse_from_rfc3339("2026-12-11T12:00:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        let letter = Wording::NewLetter {
            title: "Vedtak".into(),
        };
        let email = NoticeChannel::Email;
        assert_eq!(
            letter.text(Some(Language::Nynorsk), email),
            "Du har fått eit nytt brev i Postkasse: «Vedtak»."
        );
        assert_eq!(
            letter.text(Some(Language::English), email),
            "You have a new letter in Postkasse: “Vedtak”."
        );
        assert_eq!(
            letter.text(Some(Language::Sami), email),
            letter.text(None, email)
        );
        let reply = Wording::ReplyReminder { deadline };
        assert_eq!(
            reply.text(Some(Language::Nynorsk), email),
            "Påminning: Eit brev i Postkasse ventar på svar frå deg innan 11.12.2026 kl. 12:00."
        );
        assert!(Wording::SigningTurn { deadline }
            .text(Some(Language::English), email)
            .ends_with("sign by 11.12.2026 at 12:00."));
        assert!(Wording::PrintReminder { deadline }
            .text(Some(Language::Bokmaal), email)
            .contains("Åpnes det ikke innen 11.12.2026 kl. 12:00"));
        let sender = Wording::Sender {
            text: "Du har fått et brev.".into(),
        };
        assert_eq!(
            sender.text(Some(Language::English), email),
            "Du har fått et brev.",
            "the sender's words go as written"
        );
        // Kept as JSON beside the job.
        let stored = serde_json::to_string(&reply).unwrap();
        assert_eq!(serde_json::from_str::<Wording>(&stored).unwrap(), reply);
    }

    #[test]
    fn sender_notices_come_first_and_the_citizens_own_are_day_zero() {
        let window = schedule::DayWindow::new(
            chrono_tz::Europe::Oslo,
            chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        )
        .unwrap();
        let ordered = OrderedNotices {
            email: Some(OrderedNotice {
                address: "a@example.no".into(),
                text: "Du har post".into(),
                repetitions: vec![7, 0, 7],
            }),
            sms: None,
        };
        let title = Title::parse("Brev").unwrap();
        let notices = notices_for_letter(&ordered, &title, Utc::now(), &window);
        let keys: Vec<_> = notices
            .iter()
            .map(|notice| (notice.channel, notice.day, notice.ordered_by))
            .collect();
        assert_eq!(
            keys,
            vec![
                (NoticeChannel::Email, 0, OrderedBy::Sender),
                (NoticeChannel::Email, 7, OrderedBy::Sender),
                (NoticeChannel::Sms, 0, OrderedBy::Citizen),
            ],
            "the citizen's own e-mail falls on the sender's day 0"
        );

        // 23:30 in Oslo: day 0 moves to the morning that day 1 falls on.
        let evening = chrono::TimeZone::with_ymd_and_hms(&Utc, 2017, 6, 24, 21, 30, 0).unwrap();
        let ordered = OrderedNotices {
            email: None,
            sms: Some(OrderedNotice {
                address: "+4791234567".into(),
                text: "Du har post".into(),
                repetitions: vec![0, 1, 2],
            }),
        };
        let sms: Vec<_> = notices_for_letter(&ordered, &title, evening, &window)
            .into_iter()
            .filter(|notice| notice.channel == NoticeChannel::Sms)
            .map(|notice| (notice.day, window.local_date(notice.due_at).to_string()))
            .collect();
        assert_eq!(
            sms,
            vec![(0, "2017-06-25".to_owned()), (2, "2017-06-26".to_owned())]
        );
    }
}
