//! Reading a JSON object (a business message, a reply form) field by field
//! while collecting every problem, so a sender learns about all of them in
//! one answer. Problems are named by their path in the request
//! (`forretningsmelding.digital.spraak`).
//!
//! serde stops at the first error; DPI's schemas are strict
//! (`additionalProperties: false`) and senders fix messages in rounds, so
//! business messages are walked by hand with this instead.

use crate::validation::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub const REQUIRED: &str = "is required";

/// One JSON object being read; unread keys are reported as unknown by [`Self::finish`].
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    path: String,
    seen: BTreeSet<&'static str>,
}

/// Where problems are collected.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<FieldError>);

/// The JSON document in `bytes` (an extension's file), or the problem
/// named `path` when it is not JSON.
pub fn parse_json(bytes: &[u8], path: &str) -> Result<Value, Vec<FieldError>> {
    serde_json::from_slice(bytes)
        .map_err(|error| vec![FieldError::new(path, format!("is not JSON: {error}"))])
}

impl Problems {
    pub fn add(&mut self, name: impl Into<String>, reason: impl ToString) {
        self.0.push(FieldError::new(name, reason));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads `value` as an object at `path`, or notes that it is not one.
    pub fn object<'a>(&mut self, value: &'a Value, path: &str) -> Option<Fields<'a>> {
        match value {
            Value::Object(object) => Some(Fields {
                object,
                path: path.to_owned(),
                seen: BTreeSet::new(),
            }),
            _ => {
                self.add(path, "must be a JSON object");
                None
            }
        }
    }
}

impl<'a> Fields<'a> {
    pub fn path_of(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw value, marking the key as known.
    pub fn value(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.insert(name);
        self.object.get(name).filter(|value| !value.is_null())
    }

    pub fn required_value(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<&'a Value> {
        let value = self.value(name);
        if value.is_none() {
            problems.add(self.path_of(name), REQUIRED);
        }
        value
    }

    pub fn string(&mut self, name: &'static str, problems: &mut Problems) -> Option<&'a str> {
        match self.value(name)? {
            Value::String(text) => Some(text),
            _ => {
                problems.add(self.path_of(name), "must be a string");
                None
            }
        }
    }

    pub fn required_string(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<&'a str> {
        if self.object.get(name).is_none_or(Value::is_null) {
            self.seen.insert(name);
            problems.add(self.path_of(name), REQUIRED);
            return None;
        }
        self.string(name, problems)
    }

    pub fn object(&mut self, name: &'static str, problems: &mut Problems) -> Option<Fields<'a>> {
        let path = self.path_of(name);
        self.value(name)
            .and_then(|value| problems.object(value, &path))
    }

    pub fn required_object(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<Fields<'a>> {
        let path = self.path_of(name);
        self.required_value(name, problems)
            .and_then(|value| problems.object(value, &path))
    }

    pub fn boolean(&mut self, name: &'static str, problems: &mut Problems) -> Option<bool> {
        match self.value(name)? {
            Value::Bool(flag) => Some(*flag),
            _ => {
                problems.add(self.path_of(name), "must be true or false");
                None
            }
        }
    }

    pub fn integer(&mut self, name: &'static str, problems: &mut Problems) -> Option<i64> {
        match self.value(name)? {
            Value::Number(number) if number.is_i64() => number.as_i64(),
            _ => {
                problems.add(self.path_of(name), "must be an integer");
                None
            }
        }
    }

    pub fn array(&mut self, name: &'static str, problems: &mut Problems) -> Option<&'a [Value]> {
        match self.value(name)? {
            Value::Array(items) => Some(items),
            _ => {
                problems.add(self.path_of(name), "must be an array");
                None
            }
        }
    }

    /// `versjon`, which is required and must be `expected`.
    pub fn version(&mut self, expected: i64, problems: &mut Problems) {
        match self.integer("versjon", problems) {
            Some(version) if version == expected => {}
            Some(_) => problems.add(self.path_of("versjon"), format!("must be {expected}")),
            None if self.value("versjon").is_none() => {
                problems.add(self.path_of("versjon"), REQUIRED)
            }
            None => {}
        }
    }

    /// A text field checked as letter texts are (bounded, no control
    /// characters); `required` reports its absence.
    pub fn text(
        &mut self,
        name: &'static str,
        max_chars: usize,
        required: bool,
        problems: &mut Problems,
    ) -> Option<String> {
        let raw = if required {
            self.required_string(name, problems)
        } else {
            self.string(name, problems)
        }?;
        app::domain::letter::checked_text(raw, max_chars)
            .map_err(|error| problems.add(self.path_of(name), error))
            .ok()
    }

    /// A required deadline: an RFC 3339 time after `now` and at most
    /// `max_days` ahead of it.
    pub fn deadline(
        &mut self,
        name: &'static str,
        now: DateTime<Utc>,
        max_days: i64,
        problems: &mut Problems,
    ) -> Option<DateTime<Utc>> {
        let text = self.required_string(name, problems)?;
        let field = self.path_of(name);
        let Ok(at) = DateTime::parse_from_rfc3339(text) else {
            problems.add(
                field,
                "must be a time with its offset (RFC 3339), e.g. 2026-12-12T23:59:59+01:00",
            );
            return None;
        };
        let at = at.with_timezone(&Utc);
        if at <= now {
            problems.add(field, "must be in the future");
            None
        } else if at > now + Duration::days(max_days) {
            problems.add(field, format!("must be at most {max_days} days ahead"));
            None
        } else {
            Some(at)
        }
    }

    /// Notes every key that was never asked for: DPI's schemas, and the reply form's, allow no others.
    pub fn finish(self, problems: &mut Problems) {
        for key in self.object.keys() {
            if !self.seen.contains(key.as_str()) {
                problems.add(format!("{}.{key}", self.path), "is not a known field here");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_wrong_typed_and_unknown_fields_are_all_reported() {
        let value = json!({"a": 1, "b": "x", "c": true, "extra": 0});
        let mut problems = Problems::default();
        let mut fields = problems.object(&value, "m").unwrap();
        assert_eq!(fields.string("a", &mut problems), None);
        assert_eq!(fields.required_string("b", &mut problems), Some("x"));
        assert_eq!(fields.integer("c", &mut problems), None);
        assert_eq!(fields.required_string("d", &mut problems), None);
        fields.finish(&mut problems);
        let names: Vec<_> = problems.0.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["m.a", "m.c", "m.d", "m.extra"]);
    }
}
