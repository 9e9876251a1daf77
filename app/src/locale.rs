//! The language the pages are shown in: bokmål unless the citizen has chosen
//! nynorsk or English with the switch in the header. The words themselves
//! live in the catalogues `app/locales/{nb,nn,en}.json`, which leptos_i18n
//! turns into the checked keys of [`crate::i18n`] (the build fails when one
//! catalogue lacks a key another has).
//!
//! The choice is a cookie the server sets (`POST /sprak`, see the server's
//! `http::language`), so the switch is a plain form that works without
//! JavaScript. The browser's `Accept-Language` is deliberately not consulted:
//! many Norwegians run an English-language browser, and letters from
//! Norwegian agencies should not greet them in English unless they ask.

use crate::{
    domain::Place,
    error::{AppError, Problem},
    i18n::{td_string, use_i18n, Locale},
};
use chrono::{DateTime, Utc};
use leptos_i18n::context::{CookieOptions, UseLocalesOptions};

/// The cookie holding the chosen language (`nb`, `nn` or `en`). `__Host-`: only
/// this origin, over HTTPS, for every path.
pub const LANGUAGE_COOKIE: &str = "__Host-postkasse-sprak";

/// Where the language switch posts.
pub const SWITCH_PATH: &str = "/sprak";

/// The language cookie is only read by the app; the server's switch writes it,
/// so rendering a page never sends a `Set-Cookie`.
pub fn cookie_options() -> CookieOptions<Locale> {
    CookieOptions::default().readonly(true)
}

/// No `Accept-Language`: without a choice the page is in bokmål.
pub fn without_accept_language() -> UseLocalesOptions {
    UseLocalesOptions::default().ssr_lang_header_getter(|| None)
}

/// Parses the switch's value; only the languages the catalogue has.
pub fn parse_locale(code: &str) -> Option<Locale> {
    match code {
        "nb" => Some(Locale::nb),
        "nn" => Some(Locale::nn),
        "en" => Some(Locale::en),
        _ => None,
    }
}

/// A path on this site that a redirect may send the browser to: never
/// another origin (`//host`, `/\host`) nor a header break, so no form
/// becomes an open redirect. Shared by the language switch and the login.
pub fn local_path(path: &str) -> Option<&str> {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    local.then_some(path)
}

/// Where the switch sends the browser back to: the page it came from, if
/// that is a [`local_path`], else the front page.
pub fn safe_return_path(path: &str) -> &str {
    local_path(path).unwrap_or("/")
}

/// The page's language, once: it only changes by a new page load.
pub fn current() -> Locale {
    use_i18n().get_locale_untracked()
}

/// The Norwegian local date, as `12.12.2026`.
pub fn local_date(time: DateTime<Utc>) -> String {
    time.with_timezone(&chrono_tz::Europe::Oslo)
        .format("%d.%m.%Y")
        .to_string()
}

/// Norwegian local time, as citizens read it.
pub fn local_time(locale: Locale, time: DateTime<Utc>) -> String {
    let local = time.with_timezone(&chrono_tz::Europe::Oslo);
    td_string!(
        locale,
        common.local_time,
        date = local.format("%d.%m.%Y"),
        time = local.format("%H:%M")
    )
    .to_string()
}

/// A file's size in kB or MB, with the language's decimal mark.
pub fn size_text(locale: Locale, bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} kB", bytes.div_ceil(1024))
    } else {
        let megabytes = format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0));
        match locale {
            Locale::nb | Locale::nn => megabytes.replace('.', ","),
            Locale::en => megabytes,
        }
    }
}

/// A place's name in the citizen's language; a folder has its own.
pub fn place_name(locale: Locale, place: Place, folder_name: Option<&str>) -> String {
    match (place, folder_name) {
        (Place::Inbox, _) => td_string!(locale, inbox.inbox).into(),
        (Place::Archive, _) => td_string!(locale, inbox.archive).into(),
        (Place::Trash, _) => td_string!(locale, inbox.trash).into(),
        (Place::Folder(_), Some(name)) => name.to_owned(),
        (Place::Folder(_), None) => td_string!(locale, archive.a_folder).into(),
    }
}

/// What is wrong with a field, read after its label.
pub fn problem_text(locale: Locale, problem: Problem) -> String {
    match problem {
        Problem::Missing => td_string!(locale, problems.missing).into(),
        Problem::Empty => td_string!(locale, problems.empty).into(),
        Problem::TooLong { max } => td_string!(locale, problems.too_long, max).to_string(),
        Problem::ControlCharacters => td_string!(locale, problems.control_characters).into(),
        Problem::PathSeparators => td_string!(locale, problems.path_separators).into(),
        Problem::NoSuchPlace => td_string!(locale, problems.no_such_place).into(),
        Problem::FolderNameTaken => td_string!(locale, problems.folder_name_taken).into(),
        Problem::NotAYear => td_string!(locale, problems.not_a_year).into(),
        Problem::UnknownOrder => td_string!(locale, problems.unknown_order).into(),
        Problem::BeforeFromYear => td_string!(locale, problems.before_from_year).into(),
        Problem::InvalidEmail => td_string!(locale, problems.invalid_email).into(),
        Problem::InvalidMobile => td_string!(locale, problems.invalid_mobile).into(),
        Problem::NotMobile => td_string!(locale, problems.not_mobile).into(),
        Problem::UnknownLanguage => td_string!(locale, problems.unknown_language).into(),
        Problem::UnknownProvider => td_string!(locale, problems.unknown_provider).into(),
        Problem::NowhereToMove => td_string!(locale, problems.nowhere_to_move).into(),
        Problem::NotAnId => td_string!(locale, problems.not_an_id).into(),
        Problem::PageOutOfRange { max } => {
            td_string!(locale, problems.page_out_of_range, max).to_string()
        }
        Problem::Malformed => td_string!(locale, problems.malformed).into(),
        Problem::ReplyDeadlinePassed => td_string!(locale, problems.reply_deadline_passed).into(),
        Problem::AlreadyAnswered => td_string!(locale, problems.already_answered).into(),
        Problem::ReplyHasProblems => td_string!(locale, problems.reply_has_problems).into(),
        Problem::NeedsHigherLevel => td_string!(locale, problems.needs_higher_level).into(),
        Problem::NotACode => td_string!(locale, problems.not_a_code).into(),
        Problem::NoCodeSent => td_string!(locale, problems.no_code_sent).into(),
        Problem::WrongCode { tries_left } => {
            td_string!(locale, problems.wrong_code, tries_left).to_string()
        }
        Problem::NoTriesLeft => td_string!(locale, problems.no_tries_left).into(),
        Problem::CodeExpired => td_string!(locale, problems.code_expired).into(),
        Problem::TooManyCodes => td_string!(locale, problems.too_many_codes).into(),
        Problem::Unreachable => td_string!(locale, problems.unreachable).into(),
        Problem::NotANationalId => td_string!(locale, problems.not_a_national_id).into(),
        Problem::BornInTheFuture => td_string!(locale, problems.born_in_the_future).into(),
        Problem::OwnNationalId => td_string!(locale, problems.own_national_id).into(),
        Problem::NotADate => td_string!(locale, problems.not_a_date).into(),
        Problem::NotAfterToday => td_string!(locale, problems.not_after_today).into(),
        Problem::TooFarAhead { max_days } => {
            td_string!(locale, problems.too_far_ahead, max_days).to_string()
        }
        Problem::NoSenderChosen => td_string!(locale, problems.no_sender_chosen).into(),
        Problem::UnknownSender => td_string!(locale, problems.unknown_sender).into(),
    }
}

/// A sentence about a field: "Navnet må fylles ut."
pub fn field_problem(locale: Locale, label: &str, problem: &str) -> String {
    td_string!(locale, errors.field_problem, label, problem).to_string()
}

/// What a refused change says beside its form: the field's problem after
/// its `label`, or why nothing was saved.
pub fn refusal_text(locale: Locale, error: &AppError, label: &str) -> String {
    match error {
        AppError::Invalid { problem, .. } => {
            field_problem(locale, label, &problem_text(locale, *problem))
        }
        AppError::NotFound => td_string!(locale, errors.not_found_reload).into(),
        AppError::Unauthorized => td_string!(locale, errors.logged_out_not_saved).into(),
        AppError::ActingForAnother => td_string!(locale, errors.acting_for_another).into(),
        AppError::Internal | AppError::Transport(_) => td_string!(locale, errors.not_saved).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_path("/innboks?side=2"), "/innboks?side=2");
        assert_eq!(safe_return_path("/"), "/");
        assert_eq!(safe_return_path("//evil.example/"), "/");
        assert_eq!(safe_return_path("/\\evil.example/"), "/");
        assert_eq!(safe_return_path("https://evil.example/"), "/");
        assert_eq!(safe_return_path(""), "/");
        assert_eq!(safe_return_path("/brev\r\nSet-Cookie: x"), "/");
    }

    #[test]
    fn field_problems_read_as_sentences_in_both_languages() {
        let error = AppError::invalid("navn", Problem::TooLong { max: 60 });
        assert_eq!(
            refusal_text(Locale::nb, &error, "Navnet"),
            "Navnet kan være høyst 60 tegn."
        );
        assert_eq!(
            refusal_text(Locale::en, &error, "The name"),
            "The name can be at most 60 characters."
        );
        assert!(refusal_text(Locale::en, &AppError::Unauthorized, "x").contains("Log in again"));
    }

    #[test]
    fn times_are_oslo_time_in_the_chosen_language() {
        let time = "2026-07-01T10:05:00Z".parse().unwrap();
        assert_eq!(local_time(Locale::nb, time), "01.07.2026 kl. 12:05");
        assert_eq!(local_time(Locale::en, time), "01.07.2026 at 12:05");
        assert_eq!(size_text(Locale::nb, 3 * 1024 * 1024 / 2), "1,5 MB");
        assert_eq!(size_text(Locale::nn, 3 * 1024 * 1024 / 2), "1,5 MB");
        assert_eq!(size_text(Locale::en, 3 * 1024 * 1024 / 2), "1.5 MB");
        assert_eq!(size_text(Locale::en, 1), "1 kB");
    }

    #[test]
    fn only_catalogue_languages_parse() {
        assert_eq!(parse_locale("nb"), Some(Locale::nb));
        assert_eq!(parse_locale("nn"), Some(Locale::nn));
        assert_eq!(parse_locale("en"), Some(Locale::en));
        assert_eq!(parse_locale("se"), None, "no Sami catalogue yet");
        assert_eq!(parse_locale("EN"), None);
    }
}
