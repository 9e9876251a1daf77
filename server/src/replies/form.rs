//! Reading a sender's reply form (`application/vnd.postkasse.svarskjema+json`,
//! described in docs/replies.md) into a [`ReplyForm`], naming every problem
//! at once by its path in the form (`spoersmaal[2].alternativer[0].verdi`).
//!
//! The checks make a form the citizen can always finish: ids are unique,
//! branches point to a later question (so no path loops) or to the end,
//! choices are distinct, number ranges are not empty, and the deadline is
//! ahead.

use crate::json_fields::{Fields, Problems};
use app::domain::reply_form::{
    Choice, Next, Question, QuestionKind, ReplyForm, END_OF_FORM, QUESTION_ID_MAX,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The reply form's media type, as a package's `data` names it.
pub const MEDIA_TYPE: &str = "application/vnd.postkasse.svarskjema+json";
/// The only version of the format so far.
pub const VERSION: i64 = 1;
pub const MAX_QUESTIONS: usize = 100;
pub const MAX_CHOICES: usize = 50;
const MAX_TITLE_CHARS: usize = 200;
const MAX_INTRO_CHARS: usize = 2000;
const MAX_QUESTION_CHARS: usize = 500;
const MAX_HELP_CHARS: usize = 1000;
const MAX_CHOICE_TEXT_CHARS: usize = 200;
const MAX_CHOICE_VALUE_CHARS: usize = 100;
/// How far ahead a deadline may lie.
pub const MAX_DEADLINE_DAYS: i64 = 366;

const TYPES: [&str; 8] = [
    "JA_NEI",
    "ETT_VALG",
    "FLERE_VALG",
    "KORT_TEKST",
    "LANG_TEKST",
    "TALL",
    "DATO",
    "VEDLEGG",
];

/// Reads the form's bytes; `path` prefixes every problem's name (the form's
/// place in the package). `now` is when the letter arrives: the deadline
/// must be after it.
pub fn parse(
    bytes: &[u8],
    path: &str,
    now: DateTime<Utc>,
) -> Result<ReplyForm, Vec<crate::validation::FieldError>> {
    let value = crate::json_fields::parse_json(bytes, path)?;
    let mut problems = Problems::default();
    let Some(mut root) = problems.object(&value, path) else {
        return Err(problems.0);
    };
    root.version(VERSION, &mut problems);
    let title = root.text("tittel", MAX_TITLE_CHARS, true, &mut problems);
    let intro = root.text("ingress", MAX_INTRO_CHARS, false, &mut problems);
    let deadline = root.deadline("svarfrist", now, MAX_DEADLINE_DAYS, &mut problems);
    let free_text = root.boolean("fritekst", &mut problems).unwrap_or(false);
    let questions = match root.array("spoersmaal", &mut problems) {
        None => {
            if root.value("spoersmaal").is_none() {
                problems.add(root.path_of("spoersmaal"), "is required");
            }
            None
        }
        Some([]) => {
            problems.add(
                root.path_of("spoersmaal"),
                "must have at least one question",
            );
            None
        }
        Some(items) if items.len() > MAX_QUESTIONS => {
            problems.add(
                root.path_of("spoersmaal"),
                format!("must have at most {MAX_QUESTIONS} questions"),
            );
            None
        }
        Some(items) => Some(questions(items, &root.path_of("spoersmaal"), &mut problems)),
    };
    root.finish(&mut problems);
    match (title, deadline, questions, problems.is_empty()) {
        (Some(title), Some(deadline), Some(questions), true) => Ok(ReplyForm {
            version: 1,
            title,
            intro,
            deadline,
            free_text,
            questions,
        }),
        _ => Err(problems.0),
    }
}

/// A text field: trimmed, bounded, without control characters.
/// A branch's target as written: a question's id or `SLUTT`.
fn target(text: &str) -> Next {
    if text == END_OF_FORM {
        Next::End
    } else {
        Next::Question(text.to_owned())
    }
}

fn is_question_id(id: &str) -> bool {
    (1..=QUESTION_ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"_-".contains(&byte))
}

/// Each question, then the branches checked against the whole list.
fn questions(items: &[Value], path: &str, problems: &mut Problems) -> Vec<Question> {
    let mut read = Vec::with_capacity(items.len());
    // (position, field, target) of every branch and `nesteSpoersmaal`.
    let mut targets: Vec<(usize, String, String)> = Vec::new();
    let mut seen_ids = HashSet::new();
    for (position, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{position}]");
        let Some(mut fields) = problems.object(item, &item_path) else {
            continue;
        };
        let id = fields.required_string("id", problems).and_then(|id| {
            if !is_question_id(id) {
                problems.add(
                    fields.path_of("id"),
                    format!("must be 1 to {QUESTION_ID_MAX} of a-z, 0-9, _ and -"),
                );
                None
            } else if !seen_ids.insert(id.to_owned()) {
                problems.add(fields.path_of("id"), "is used by an earlier question");
                None
            } else {
                Some(id.to_owned())
            }
        });
        let question_text = fields.text("tekst", MAX_QUESTION_CHARS, true, problems);
        let help = fields.text("hjelpetekst", MAX_HELP_CHARS, false, problems);
        let required = fields.boolean("paakrevd", problems).unwrap_or(false);
        let kind = kind(&mut fields, problems);
        let next = fields.string("nesteSpoersmaal", problems).map(|next| {
            targets.push((position, fields.path_of("nesteSpoersmaal"), next.to_owned()));
            target(next)
        });
        let mut branches = BTreeMap::new();
        let branch_path = fields.path_of("forgrening");
        match (fields.value("forgrening"), &kind) {
            (None, _) => {}
            (
                Some(Value::Object(written)),
                Some(kind @ (QuestionKind::YesNo | QuestionKind::OneChoice(_))),
            ) => {
                let values = kind.branch_values();
                for (value, to) in written {
                    let field = format!("{branch_path}.{value}");
                    if !values.contains(&value.as_str()) {
                        problems.add(
                            &field,
                            format!("is not an answer to this question ({})", values.join(", ")),
                        );
                        continue;
                    }
                    match to.as_str() {
                        Some(to) => {
                            targets.push((position, field, to.to_owned()));
                            branches.insert(value.clone(), target(to));
                        }
                        None => problems.add(&field, "must be a question's id or SLUTT"),
                    }
                }
            }
            (Some(Value::Object(_)), Some(_)) => problems.add(
                &branch_path,
                "is only for JA_NEI and ETT_VALG questions (use nesteSpoersmaal)",
            ),
            (Some(Value::Object(_)), None) => {}
            (Some(_), _) => problems.add(
                &branch_path,
                "must be a JSON object from answer values to question ids",
            ),
        }
        fields.finish(problems);
        if let (Some(id), Some(text), Some(kind)) = (id, question_text, kind) {
            read.push((
                position,
                Question {
                    id,
                    text,
                    help,
                    required,
                    kind,
                    next,
                    branches,
                },
            ));
        }
    }
    let ids: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter_map(|(position, item)| Some((position, item.get("id")?.as_str()?)))
        .collect();
    for (from, field, to) in targets {
        if to == END_OF_FORM {
            continue;
        }
        match ids.iter().find(|(_, id)| *id == to) {
            None => problems.add(field, format!("names no question of this form: {to}")),
            Some((position, _)) if *position <= from => problems.add(
                field,
                "must name a later question (a form goes forward only, so it always ends)",
            ),
            Some(_) => {}
        }
    }
    read.into_iter().map(|(_, question)| question).collect()
}

/// The question's type, with what belongs to it: choices for the choice
/// types, a range for numbers. A field that belongs to another type is a problem.
fn kind(fields: &mut Fields<'_>, problems: &mut Problems) -> Option<QuestionKind> {
    let code = fields.required_string("type", problems);
    let code = match code {
        Some(code) if TYPES.contains(&code) => Some(code),
        Some(_) => {
            problems.add(
                fields.path_of("type"),
                format!("must be one of {}", TYPES.join(", ")),
            );
            None
        }
        None => None,
    };
    let takes_choices = matches!(code, Some("ETT_VALG" | "FLERE_VALG"));
    let choices = match fields.array("alternativer", problems) {
        Some(items) if takes_choices => choices(items, &fields.path_of("alternativer"), problems),
        Some(_) => {
            problems.add(
                fields.path_of("alternativer"),
                "is only for ETT_VALG and FLERE_VALG questions",
            );
            None
        }
        None if takes_choices && fields.value("alternativer").is_none() => {
            problems.add(fields.path_of("alternativer"), "is required");
            None
        }
        None => None,
    };
    let min = fields.integer("min", problems);
    let max = fields.integer("maks", problems);
    match (code, min, max) {
        (Some("TALL"), Some(min), Some(max)) if min > max => {
            problems.add(fields.path_of("maks"), "must not be below min")
        }
        (Some("TALL") | None, _, _) => {}
        (Some(_), _, _) => {
            for (name, value) in [("min", min), ("maks", max)] {
                if value.is_some() {
                    problems.add(fields.path_of(name), "is only for TALL questions");
                }
            }
        }
    }
    Some(match code? {
        "JA_NEI" => QuestionKind::YesNo,
        "ETT_VALG" => QuestionKind::OneChoice(choices?),
        "FLERE_VALG" => QuestionKind::SeveralChoices(choices?),
        "KORT_TEKST" => QuestionKind::ShortText,
        "LANG_TEKST" => QuestionKind::LongText,
        "TALL" => QuestionKind::Number { min, max },
        "DATO" => QuestionKind::Date,
        _ => QuestionKind::Attachment,
    })
}

fn choices(items: &[Value], path: &str, problems: &mut Problems) -> Option<Vec<Choice>> {
    if items.is_empty() || items.len() > MAX_CHOICES {
        problems.add(path, format!("must have 1 to {MAX_CHOICES} choices"));
        return None;
    }
    let before = problems.0.len();
    let mut values = HashSet::new();
    let mut read = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let Some(mut fields) = problems.object(item, &format!("{path}[{position}]")) else {
            continue;
        };
        let value = fields.text("verdi", MAX_CHOICE_VALUE_CHARS, true, problems);
        if let Some(value) = &value {
            if !values.insert(value.clone()) {
                problems.add(fields.path_of("verdi"), "is used by an earlier choice");
            }
        }
        let choice_text = fields.text("tekst", MAX_CHOICE_TEXT_CHARS, true, problems);
        fields.finish(problems);
        if let (Some(value), Some(text)) = (value, choice_text) {
            read.push(Choice { value, text });
        }
    }
    (problems.0.len() == before).then_some(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-12-07T10:00:00Z".parse().unwrap()
    }

    fn good() -> Value {
        json!({
            "versjon": 1,
            "tittel": "Påmelding til kurs",
            "ingress": "Svar innen fristen.",
            "svarfrist": "2026-12-12T23:59:59+01:00",
            "fritekst": true,
            "spoersmaal": [
                {"id": "deltar", "type": "JA_NEI", "tekst": "Kommer du?", "paakrevd": true,
                 "forgrening": {"nei": "grunn"}},
                {"id": "dag", "type": "ETT_VALG", "tekst": "Hvilken dag?", "paakrevd": true,
                 "alternativer": [{"verdi": "man", "tekst": "Mandag"}, {"verdi": "tir", "tekst": "Tirsdag"}],
                 "nesteSpoersmaal": "SLUTT"},
                {"id": "grunn", "type": "LANG_TEKST", "tekst": "Hvorfor ikke?", "hjelpetekst": "Valgfritt."},
                {"id": "antall", "type": "TALL", "tekst": "Hvor mange?", "min": 1, "maks": 5}
            ]
        })
    }

    fn names(value: &Value) -> Vec<String> {
        let bytes = serde_json::to_vec(value).unwrap();
        parse(&bytes, "skjema", now())
            .unwrap_err()
            .into_iter()
            .map(|problem| problem.name)
            .collect()
    }

    #[test]
    fn a_good_form_is_read_with_its_branches() {
        let form = parse(&serde_json::to_vec(&good()).unwrap(), "skjema", now()).unwrap();
        assert_eq!(form.title, "Påmelding til kurs");
        assert_eq!(
            form.deadline,
            "2026-12-12T22:59:59Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(form.free_text);
        assert_eq!(form.questions.len(), 4);
        assert_eq!(
            form.questions[0].branches.get("nei"),
            Some(&Next::Question("grunn".to_owned()))
        );
        assert_eq!(form.questions[1].next, Some(Next::End));
        assert_eq!(
            form.questions[3].kind,
            QuestionKind::Number {
                min: Some(1),
                max: Some(5)
            }
        );
    }

    #[test]
    fn every_problem_is_named_by_its_path() {
        let mut form = good();
        form["versjon"] = json!(2);
        form["svarfrist"] = json!("2026-12-01T00:00:00Z");
        form["ukjent"] = json!(true);
        let questions = form["spoersmaal"].as_array_mut().unwrap();
        questions[0]["forgrening"] = json!({"kanskje": "dag", "nei": "deltar"});
        questions[1]["alternativer"][1]["verdi"] = json!("man");
        questions[1]["min"] = json!(1);
        questions[2]["id"] = json!("Grunn!");
        questions[2]["type"] = json!("TEKST");
        questions[3]["min"] = json!(9);
        assert_eq!(
            names(&form),
            [
                "skjema.versjon",
                "skjema.svarfrist",
                "skjema.spoersmaal[0].forgrening.kanskje",
                "skjema.spoersmaal[1].alternativer[1].verdi",
                "skjema.spoersmaal[1].min",
                "skjema.spoersmaal[2].id",
                "skjema.spoersmaal[2].type",
                "skjema.spoersmaal[3].maks",
                "skjema.spoersmaal[0].forgrening.nei",
                "skjema.ukjent",
            ]
        );
    }

    #[test]
    fn branches_go_forward_to_questions_that_exist() {
        let mut form = good();
        form["spoersmaal"][1]["nesteSpoersmaal"] = json!("finnes-ikke");
        form["spoersmaal"][3]["nesteSpoersmaal"] = json!("deltar");
        assert_eq!(
            names(&form),
            [
                "skjema.spoersmaal[1].nesteSpoersmaal",
                "skjema.spoersmaal[3].nesteSpoersmaal"
            ]
        );
    }

    #[test]
    fn not_json_and_missing_fields_are_refused() {
        assert_eq!(parse(b"{", "skjema", now()).unwrap_err()[0].name, "skjema");
        assert_eq!(
            names(&json!({})),
            [
                "skjema.versjon",
                "skjema.tittel",
                "skjema.svarfrist",
                "skjema.spoersmaal"
            ]
        );
    }
}
