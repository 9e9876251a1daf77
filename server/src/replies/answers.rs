//! The citizen's posted answers read against the form: each field parsed
//! into an [`Answer`] or an [`AnswerProblem`], then only the questions on
//! the citizen's path kept, and a required one without an answer noted.

use app::api::replies::AnswerProblem;
use app::domain::reply_form::{
    Answer, AnswerFile, QuestionKind, ReplyForm, LONG_TEXT_MAX, NO, SHORT_TEXT_MAX, YES,
};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A form field's name for a question: `q.<id>`.
pub const FIELD_PREFIX: &str = "q.";

/// What the citizen posted: the text fields by question id (a several-choice
/// question may have many values) and each attachment question's file,
/// already checked and stored, or the problem with it.
#[derive(Debug, Default, Clone)]
pub struct Posted {
    pub values: BTreeMap<String, Vec<String>>,
    pub files: BTreeMap<String, Result<AnswerFile, AnswerProblem>>,
}

/// The answers read from `posted`, with the problems of the questions on
/// the citizen's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAnswers {
    pub answers: BTreeMap<String, Answer>,
    pub problems: BTreeMap<String, AnswerProblem>,
    /// The questions asked, in order.
    pub path: Vec<String>,
}

pub fn read(form: &ReplyForm, posted: &Posted) -> ReadAnswers {
    let mut answers = BTreeMap::new();
    let mut problems = BTreeMap::new();
    for question in &form.questions {
        let parsed = match &question.kind {
            QuestionKind::Attachment => posted
                .files
                .get(&question.id)
                .cloned()
                .map(|file| file.map(Answer::Attachment)),
            kind => {
                let values: Vec<&str> = posted
                    .values
                    .get(&question.id)
                    .map(|values| {
                        values
                            .iter()
                            .map(|value| value.trim())
                            .filter(|value| !value.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                parse(kind, &values)
            }
        };
        match parsed {
            Some(Ok(answer)) => {
                answers.insert(question.id.clone(), answer);
            }
            Some(Err(problem)) => {
                problems.insert(question.id.clone(), problem);
            }
            None => {}
        }
    }
    let path: Vec<String> = form
        .path(&answers)
        .into_iter()
        .map(|question| question.id.clone())
        .collect();
    answers.retain(|id, _| path.contains(id));
    problems.retain(|id, _| path.contains(id));
    for question in form.path(&answers) {
        if question.required
            && !answers.contains_key(&question.id)
            && !problems.contains_key(&question.id)
        {
            problems.insert(question.id.clone(), AnswerProblem::Missing);
        }
    }
    ReadAnswers {
        answers,
        problems,
        path,
    }
}

/// One question's values; `None` when it was left empty.
fn parse(kind: &QuestionKind, values: &[&str]) -> Option<Result<Answer, AnswerProblem>> {
    let first = values.first().copied()?;
    Some(match kind {
        QuestionKind::YesNo => match first {
            YES | NO => Ok(Answer::Choice(first.to_owned())),
            _ => Err(AnswerProblem::NotAChoice),
        },
        QuestionKind::OneChoice(choices) => {
            if choices.iter().any(|choice| choice.value == first) {
                Ok(Answer::Choice(first.to_owned()))
            } else {
                Err(AnswerProblem::NotAChoice)
            }
        }
        QuestionKind::SeveralChoices(choices) => {
            // In the form's order, each once, whatever order they came in.
            let chosen: Vec<String> = choices
                .iter()
                .filter(|choice| values.contains(&choice.value.as_str()))
                .map(|choice| choice.value.clone())
                .collect();
            if values
                .iter()
                .all(|value| chosen.iter().any(|known| known == value))
            {
                Ok(Answer::Choices(chosen))
            } else {
                Err(AnswerProblem::NotAChoice)
            }
        }
        QuestionKind::ShortText => text(first, SHORT_TEXT_MAX),
        QuestionKind::LongText => text(first, LONG_TEXT_MAX),
        QuestionKind::Number { min, max } => match first.parse::<i64>() {
            Err(_) => Err(AnswerProblem::NotANumber),
            Ok(number) if min.is_some_and(|min| number < min) => Err(AnswerProblem::BelowMin {
                min: min.unwrap_or_default(),
            }),
            Ok(number) if max.is_some_and(|max| number > max) => Err(AnswerProblem::AboveMax {
                max: max.unwrap_or_default(),
            }),
            Ok(number) => Ok(Answer::Number(number)),
        },
        QuestionKind::Date => NaiveDate::parse_from_str(first, "%Y-%m-%d")
            .map(Answer::Date)
            .map_err(|_| AnswerProblem::NotADate),
        QuestionKind::Attachment => return None,
    })
}

/// Free text: bounded in characters; line breaks are kept, other control
/// characters refused as not text at all.
fn text(value: &str, max_chars: usize) -> Result<Answer, AnswerProblem> {
    if value.chars().count() > max_chars {
        return Err(AnswerProblem::TooLong {
            max: u32::try_from(max_chars).unwrap_or(u32::MAX),
        });
    }
    let clean: String = value
        .chars()
        .filter(|character| !character.is_control() || matches!(character, '\n' | '\t'))
        .collect();
    Ok(Answer::Text(clean.replace("\r\n", "\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::reply_form::{Choice, Next, Question};
    use chrono::Utc;

    fn question(id: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            id: id.to_owned(),
            text: id.to_owned(),
            help: None,
            required,
            kind,
            next: None,
            branches: BTreeMap::new(),
        }
    }

    fn form() -> ReplyForm {
        let mut attending = question("deltar", QuestionKind::YesNo, true);
        attending
            .branches
            .insert(NO.to_owned(), Next::Question("grunn".to_owned()));
        let mut count = question(
            "antall",
            QuestionKind::Number {
                min: Some(1),
                max: Some(5),
            },
            true,
        );
        count.next = Some(Next::End);
        ReplyForm {
            version: 1,
            title: "Kurs".to_owned(),
            intro: None,
            deadline: Utc::now(),
            free_text: false,
            questions: vec![
                attending,
                question(
                    "mat",
                    QuestionKind::SeveralChoices(vec![
                        Choice {
                            value: "vegetar".to_owned(),
                            text: "Vegetar".to_owned(),
                        },
                        Choice {
                            value: "gluten".to_owned(),
                            text: "Glutenfri".to_owned(),
                        },
                    ]),
                    false,
                ),
                count,
                question("grunn", QuestionKind::LongText, true),
            ],
        }
    }

    fn posted(fields: &[(&str, &str)]) -> Posted {
        let mut posted = Posted::default();
        for (id, value) in fields {
            posted
                .values
                .entry((*id).to_owned())
                .or_default()
                .push((*value).to_owned());
        }
        posted
    }

    #[test]
    fn answers_on_the_path_are_kept_and_problems_named() {
        let read = read(
            &form(),
            &posted(&[
                ("deltar", "ja"),
                ("mat", "gluten"),
                ("mat", "vegetar"),
                ("antall", "9"),
                ("grunn", "sendes ikke"),
            ]),
        );
        assert_eq!(read.path, ["deltar", "mat", "antall"]);
        assert_eq!(
            read.answers.get("mat"),
            Some(&Answer::Choices(vec!["vegetar".into(), "gluten".into()]))
        );
        assert_eq!(read.answers.get("grunn"), None, "not on the path");
        assert_eq!(
            read.problems,
            BTreeMap::from([("antall".to_owned(), AnswerProblem::AboveMax { max: 5 })])
        );
    }

    #[test]
    fn a_branch_asks_other_questions_and_required_ones_must_be_answered() {
        let read = read(&form(), &posted(&[("deltar", "nei"), ("antall", "2")]));
        assert_eq!(read.path, ["deltar", "grunn"]);
        assert_eq!(
            read.problems,
            BTreeMap::from([("grunn".to_owned(), AnswerProblem::Missing)])
        );
        let read = super::read(&form(), &posted(&[("deltar", "kanskje"), ("mat", "kake")]));
        assert_eq!(
            read.problems.get("deltar"),
            Some(&AnswerProblem::NotAChoice)
        );
        assert_eq!(read.problems.get("mat"), Some(&AnswerProblem::NotAChoice));
        assert_eq!(read.problems.get("antall"), Some(&AnswerProblem::Missing));
    }
}
