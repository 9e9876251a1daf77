//! The pieces of forms: a field with its hint and error, the refusal beside
//! a form, and the note confirming a save.
//!
//! The server-function forms are `ActionForm`s: without JavaScript the
//! browser posts them and is sent back to the page, with a refusal in the
//! address (`?__path=…&__err=…`) shown beside its field; with JavaScript the
//! action's value holds it.

use crate::{
    error::AppError,
    locale::{self, refusal_text},
};
use leptos::{
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_router::hooks::use_query_map;

/// The refusal to show beside `action`'s form: its own last answer once it
/// has run in the browser; before that, the one a plain form post left in
/// the address, if it came from this server function.
pub fn form_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let query = use_query_map();
    Signal::derive(move || {
        if action.version().get() > 0 {
            return action.value().get().and_then(Result::err);
        }
        query.with(|query| {
            (query.get("__path")? == S::PATH).then_some(())?;
            Some(ServerFnUrlError::<AppError>::decode_err(
                query.get_str("__err")?,
            ))
        })
    })
}

/// What a refusal says after the field's label.
pub fn error_text(error: &AppError, label: &str) -> String {
    refusal_text(locale::current(), error, label)
}

/// `aria-describedby` for a control with a hint (optional) and a possible error.
pub fn described_by(
    hint: Option<&'static str>,
    error_id: &'static str,
    error: Signal<Option<AppError>>,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || {
        let ids: Vec<&str> = hint
            .into_iter()
            .chain(error.get().is_some().then_some(error_id))
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// The error beside a field, when there is one.
#[component]
pub fn FieldError(
    id: &'static str,
    label: &'static str,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        error.get().map(|error| {
            view! { <p id=id class="field-error">{refusal_text(locale::current(), &error, label)}</p> }
        })
    }
}

/// Confirms a save made through JavaScript, next to what was saved.
#[component]
pub fn SavedNote(note: Signal<Option<&'static str>>) -> impl IntoView {
    move || {
        note.get()
            .map(|note| view! { <p class="saved-note">{note}</p> })
    }
}

/// A labelled text input with its hint and, after a refusal, its error.
#[component]
pub fn TextField(
    /// The server function's argument; also the input's id unless `id` is given.
    name: &'static str,
    /// The input's id, where two forms on one page send the same argument.
    #[prop(optional)]
    id: Option<&'static str>,
    hint_id: &'static str,
    /// The id of the error paragraph, `<name>-feil`.
    error_id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    /// The keyboard a phone offers (`numeric` for codes); none by default.
    #[prop(optional)]
    inputmode: Option<&'static str>,
    #[prop(into)] hint: String,
    value: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <p id=hint_id class="hint">{hint}</p>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                value=value
                aria-describedby=described_by(Some(hint_id), error_id, error)
                aria-invalid=move || error.get().is_some().then_some("true")
            />
            <FieldError id=error_id label error />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn refusals_read_after_the_label_as_one_sentence() {
        let error = AppError::invalid("email", crate::error::Problem::InvalidEmail);
        assert_eq!(
            refusal_text(Locale::nb, &error, "E-postadresse"),
            "E-postadresse er ikke en gyldig e-postadresse (eksempel: navn@eksempel.no)."
        );
        assert_eq!(
            refusal_text(Locale::en, &error, "E-mail address"),
            "E-mail address is not a valid e-mail address (example: name@example.no)."
        );
        assert!(
            refusal_text(Locale::nb, &AppError::Unauthorized, "E-postadresse")
                .contains("Logg inn på nytt")
        );
    }
}
