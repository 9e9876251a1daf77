//! What a letter asks of the citizen besides being read: a link out to the
//! sender's own service (DPI's `lenke` extension) and a reply form the
//! citizen answers inside the mailbox (Postkasse's `svarskjema` extension).
//!
//! The server builds these from the sender's package, checking every rule
//! (see `server/src/replies/form.rs`); here they are plain data the letter
//! page renders.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A link to the sender's own service, shown as a button on the letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterLink {
    /// An absolute `https` address without credentials.
    pub url: String,
    /// What the link is for (`beskrivelse`); the page has its own words when absent.
    pub description: Option<String>,
    /// The button's words (`knappTekst`); the page has its own when absent.
    pub button_text: Option<String>,
    /// After this the button is gone (`frist`).
    pub deadline: Option<DateTime<Utc>>,
}

impl LetterLink {
    /// Whether the button may still be shown at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.deadline.is_none_or(|deadline| now <= deadline)
    }
}

/// A question's id within its form: 1 to 40 of `a-z`, `0-9`, `_` and `-`.
pub const QUESTION_ID_MAX: usize = 40;
/// The end of the form, as a branch's target.
pub const END_OF_FORM: &str = "SLUTT";
/// The most characters a short text answer may have.
pub const SHORT_TEXT_MAX: usize = 200;
/// The most characters a long text answer may have.
pub const LONG_TEXT_MAX: usize = 4000;

/// A reply form: questions the sender asks, answered once, by a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyForm {
    /// The form format's version (`versjon`); 1 is the only one so far.
    pub version: u32,
    pub title: String,
    pub intro: Option<String>,
    /// Answers are refused after this (`svarfrist`).
    pub deadline: DateTime<Utc>,
    /// Whether the citizen may also write free-text messages to the sender.
    pub free_text: bool,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub help: Option<String>,
    pub required: bool,
    pub kind: QuestionKind,
    /// Where the form goes after this question, whatever the answer; the
    /// question after it in the list when `None`.
    pub next: Option<Next>,
    /// For yes/no and one-choice questions: where the form goes after a given
    /// answer value, before `next`.
    pub branches: BTreeMap<String, Next>,
}

/// A branch's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Next {
    Question(String),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuestionKind {
    YesNo,
    OneChoice(Vec<Choice>),
    SeveralChoices(Vec<Choice>),
    ShortText,
    LongText,
    Number { min: Option<i64>, max: Option<i64> },
    Date,
    Attachment,
}

impl QuestionKind {
    /// The values a yes/no or one-choice answer can have, which branches name.
    pub fn branch_values(&self) -> Vec<&str> {
        match self {
            QuestionKind::YesNo => vec![YES, NO],
            QuestionKind::OneChoice(choices) => {
                choices.iter().map(|choice| choice.value.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// A yes/no answer's values.
pub const YES: &str = "ja";
pub const NO: &str = "nei";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What the answer carries (`verdi`).
    pub value: String,
    /// What the citizen reads (`tekst`).
    pub text: String,
}

/// One question's answer, as the citizen gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// A yes/no or one-choice answer: the value chosen.
    Choice(String),
    Choices(Vec<String>),
    Text(String),
    Number(i64),
    Date(NaiveDate),
    /// A file the citizen attached, kept in the blob store.
    Attachment(AnswerFile),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerFile {
    pub file_name: String,
    pub media_type: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size_bytes: u64,
}

impl ReplyForm {
    /// Whether answers are still taken at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        now <= self.deadline
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.id == id)
    }

    /// The questions the citizen is asked, given their answers so far: from
    /// the first, following branches and `next`. Branches point forward
    /// only (checked at intake), so this ends.
    pub fn path<'a>(&'a self, answers: &BTreeMap<String, Answer>) -> Vec<&'a Question> {
        let mut path = Vec::new();
        let mut index = 0;
        while let Some(question) = self.questions.get(index) {
            path.push(question);
            let chosen = match answers.get(&question.id) {
                Some(Answer::Choice(value)) => question.branches.get(value),
                _ => None,
            };
            let next = match chosen.or(question.next.as_ref()) {
                None => index + 1,
                Some(Next::End) => break,
                Some(Next::Question(id)) => {
                    match self.questions.iter().position(|other| &other.id == id) {
                        Some(position) if position > index => position,
                        _ => break,
                    }
                }
            };
            index = next;
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.to_owned(),
            text: format!("Spørsmål {id}"),
            help: None,
            required: true,
            kind,
            next: None,
            branches: BTreeMap::new(),
        }
    }

    #[test]
    fn the_path_follows_branches_and_skips_what_is_not_asked() {
        let mut attending = question("deltar", QuestionKind::YesNo);
        attending
            .branches
            .insert(NO.to_owned(), Next::Question("grunn".to_owned()));
        let mut day = question("dag", QuestionKind::Date);
        day.next = Some(Next::End);
        let form = ReplyForm {
            version: 1,
            title: "Påmelding".to_owned(),
            intro: None,
            deadline: Utc::now(),
            free_text: false,
            questions: vec![
                attending,
                day,
                question("grunn", QuestionKind::LongText),
                question("slutt", QuestionKind::ShortText),
            ],
        };
        let ids = |answers: &BTreeMap<String, Answer>| {
            form.path(answers)
                .iter()
                .map(|question| question.id.clone())
                .collect::<Vec<_>>()
        };
        let mut answers = BTreeMap::new();
        assert_eq!(ids(&answers), ["deltar", "dag"]);
        answers.insert("deltar".to_owned(), Answer::Choice(YES.to_owned()));
        assert_eq!(ids(&answers), ["deltar", "dag"]);
        answers.insert("deltar".to_owned(), Answer::Choice(NO.to_owned()));
        assert_eq!(ids(&answers), ["deltar", "grunn", "slutt"]);
    }

    #[test]
    fn a_link_closes_after_its_deadline() {
        let now = Utc::now();
        let mut link = LetterLink {
            url: "https://skatt.example/svar".to_owned(),
            description: None,
            button_text: None,
            deadline: None,
        };
        assert!(link.is_open(now));
        link.deadline = Some(now);
        assert!(link.is_open(now));
        assert!(!link.is_open(now + chrono::Duration::seconds(1)));
    }
}
