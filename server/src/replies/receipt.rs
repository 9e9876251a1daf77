//! The citizen's receipt for a sent reply: a PDF of what they answered,
//! when, at which login level and to which letter, with each attached
//! file's SHA-256, sealed with Postkasse's key ([`crate::seal`]). It goes
//! into the citizen's own documents; the agency got the same answers in the
//! `svar` message, so both can show what was sent.
//!
//! In bokmål, like the letters the agencies send. CPU-bound (layout, RSA):
//! run it in `tokio::task::spawn_blocking`.

use crate::pdf::{a4, finish, new_document, text, A4_POINTS};
use app::domain::reply_form::{Answer, Choice, QuestionKind, NO, YES};
use app::domain::{ReplyForm, SecurityLevel};
use chrono::{DateTime, Utc};

/// What the receipt says.
pub struct ReceiptFacts<'a> {
    pub letter_title: &'a str,
    pub sender_name: &'a str,
    pub form: &'a ReplyForm,
    pub reply_id: uuid::Uuid,
    pub sent_at: DateTime<Utc>,
    pub level: SecurityLevel,
    /// The answers on the citizen's path, in order.
    pub answers: Vec<(&'a str, &'a Answer)>,
}

const LEFT: f32 = 60.0;
const TOP: f32 = 72.0;
const BOTTOM: f32 = 780.0;
const BODY: f32 = 10.5;
const LINE: f32 = 15.0;
/// Characters per line at the body size: DejaVu Sans averages a little
/// over half an em, and the text column is 475 points wide.
const WRAP_CHARS: usize = 84;

/// The receipt's lines: (size, text), a blank line as an empty text.
pub fn lines(facts: &ReceiptFacts<'_>) -> Vec<(f32, String)> {
    let oslo = facts.sent_at.with_timezone(&chrono_tz::Europe::Oslo);
    let level = match facts.level {
        SecurityLevel::Substantial => "betydelig (nivå 3)",
        SecurityLevel::High => "høyt (nivå 4)",
    };
    let mut lines = vec![
        (16.0, "Kvittering for svar".to_owned()),
        (BODY, String::new()),
        (BODY, format!("Brev: {}", facts.letter_title)),
        (BODY, format!("Fra: {}", facts.sender_name)),
        (
            BODY,
            format!(
                "Skjema: {} (versjon {})",
                facts.form.title, facts.form.version
            ),
        ),
        (
            BODY,
            format!(
                "Sendt: {} kl. {} (norsk tid), innlogget på sikkerhetsnivå {level}",
                oslo.format("%d.%m.%Y"),
                oslo.format("%H:%M:%S")
            ),
        ),
        (BODY, format!("Svarets id: {}", facts.reply_id)),
        (BODY, String::new()),
        (12.0, "Svarene".to_owned()),
    ];
    for (question_id, answer) in &facts.answers {
        let Some(question) = facts.form.question(question_id) else {
            continue;
        };
        lines.push((BODY, String::new()));
        lines.extend(wrap(&question.text).into_iter().map(|line| (BODY, line)));
        let shown = match (answer, &question.kind) {
            (Answer::Choice(value), QuestionKind::YesNo) => if value == YES {
                "Ja"
            } else if value == NO {
                "Nei"
            } else {
                value
            }
            .to_owned(),
            (Answer::Choice(value), QuestionKind::OneChoice(choices)) => {
                choice_text(choices, value).to_owned()
            }
            (Answer::Choices(values), QuestionKind::SeveralChoices(choices)) => values
                .iter()
                .map(|value| choice_text(choices, value))
                .collect::<Vec<_>>()
                .join(", "),
            (Answer::Text(text), _) => text.clone(),
            (Answer::Number(number), _) => number.to_string(),
            (Answer::Date(date), _) => date.format("%d.%m.%Y").to_string(),
            (Answer::Attachment(file), _) => format!(
                "Vedlegg: {} ({} byte), SHA-256 {}",
                file.file_name, file.size_bytes, file.sha256
            ),
            // A choice the form does not describe (never stored: answers
            // are read against the form) is shown as its value.
            (Answer::Choice(value), _) => value.clone(),
            (Answer::Choices(values), _) => values.join(", "),
        };
        for paragraph in shown.lines() {
            lines.extend(
                wrap(&format!("   {paragraph}"))
                    .into_iter()
                    .map(|line| (BODY, line)),
            );
        }
    }
    lines.push((BODY, String::new()));
    lines.extend(
        wrap(
            "Dokumentet er forseglet av Postkasse. En PDF-leser viser om forseglingen er gyldig, \
             og om dokumentet er endret etter at det ble laget.",
        )
        .into_iter()
        .map(|line| (9.0, line)),
    );
    lines
}

/// What the citizen read for a choice's value.
fn choice_text<'a>(choices: &'a [Choice], value: &'a str) -> &'a str {
    choices
        .iter()
        .find(|choice| choice.value == value)
        .map_or(value, |choice| choice.text.as_str())
}

/// Splits text into lines of at most [`WRAP_CHARS`] characters, at spaces
/// where it can, and within a word that is longer than a line.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > WRAP_CHARS {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(WRAP_CHARS).collect();
            word = word.chars().skip(WRAP_CHARS).collect();
            lines.push(head);
        }
        let length = line.chars().count() + word.chars().count() + usize::from(!line.is_empty());
        if length > WRAP_CHARS && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    lines.push(line);
    lines
}

/// The receipt as a PDF, over as many A4 pages as it takes.
pub fn receipt_pdf(facts: &ReceiptFacts<'_>) -> anyhow::Result<Vec<u8>> {
    let lines = lines(facts);
    let mut document = new_document();
    let mut remaining = lines.as_slice();
    while !remaining.is_empty() {
        let mut page = document.start_page_with(a4());
        let mut surface = page.surface();
        let mut y = TOP;
        while let Some(((size, line), rest)) = remaining.split_first() {
            if y > BOTTOM {
                break;
            }
            if !line.is_empty() {
                text(&mut surface, LEFT, y, *size, line);
            }
            y += LINE.max(*size * 1.4);
            remaining = rest;
        }
        surface.finish();
        page.finish();
    }
    debug_assert!(A4_POINTS.1 > BOTTOM);
    finish(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_and_lines_are_wrapped() {
        let long = "a".repeat(100);
        let wrapped = wrap(&format!("kort {long} slutt"));
        assert_eq!(wrapped[0], "kort");
        assert_eq!(wrapped[1].chars().count(), WRAP_CHARS);
        assert!(wrapped
            .iter()
            .all(|line| line.chars().count() <= WRAP_CHARS));
        assert_eq!(
            wrapped.concat().replace(' ', ""),
            format!("kort{long}slutt")
        );
    }
}
