//! The documents the citizen uploads themselves ("Mine dokumenter",
//! `/mine-dokumenter`).
//!
//! The upload form is a plain multipart form posted to
//! `/mine-dokumenter/last-opp`, which sends the browser back here with
//! `?feil=<code>` or `?lagret=1`; deleting is a server-function form.

use crate::{
    api::archive::{list_uploads, DeleteUpload, UploadProblem, UploadView},
    components::{
        forms::{error_text, form_error},
        listed::listed,
    },
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::{field_problem, local_time, size_text},
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Why an upload was refused, read after "Filen".
fn upload_problem_text(problem: UploadProblem, locale: Locale) -> &'static str {
    match problem {
        UploadProblem::Missing => td_string!(locale, problems.upload_missing),
        UploadProblem::TooLarge => td_string!(locale, problems.upload_too_large),
        UploadProblem::WrongKind => td_string!(locale, problems.upload_wrong_kind),
        UploadProblem::BadName => td_string!(locale, problems.upload_bad_name),
    }
}

#[component]
pub fn UploadsPage() -> impl IntoView {
    let delete = ServerAction::<DeleteUpload>::new();
    let uploads = Resource::new(move || delete.version().get(), |_| list_uploads());
    let query = use_query_map();
    // Only a known code from the address is shown, never its text.
    let problem = Memo::new(move |_| {
        query.with(|query| {
            query
                .get("feil")
                .and_then(|code| UploadProblem::from_code(&code))
        })
    });
    let saved = Memo::new(move |_| query.with(|query| query.get("lagret").is_some()));
    let delete_error = form_error(delete);
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, archive.my_documents) />
        <p class="breadcrumb"><a href="/innboks">{t!(i18n, common.back_to_inbox)}</a></p>
        <h1>{t!(i18n, archive.my_documents)}</h1>
        <p class="lead">{t!(i18n, archive.my_documents_lead)}</p>
        <section aria-labelledby="last-opp-tittel">
            <h2 id="last-opp-tittel">{t!(i18n, archive.upload_a_document)}</h2>
            {move || saved.get().then(|| view! { <p class="saved-note" role="status">{t!(i18n, archive.uploaded)}</p> })}
            <form
                method="post"
                action="/mine-dokumenter/last-opp"
                enctype="multipart/form-data"
                class="settings-form"
            >
                <div class="field">
                    <label for="fil">{t!(i18n, archive.document_label)}</label>
                    <p id="fil-hint" class="hint">{t!(i18n, archive.upload_hint)}</p>
                    <input
                        id="fil"
                        name="fil"
                        type="file"
                        accept="application/pdf,image/png,image/jpeg"
                        aria-invalid=move || problem.get().is_some().then_some("true")
                        aria-describedby=move || {
                            if problem.get().is_some() { "fil-hint fil-feil" } else { "fil-hint" }
                        }
                    />
                    {move || problem.get().map(|problem| view! {
                        <p id="fil-feil" class="field-error">{field_problem(
                            i18n.get_locale_untracked(),
                            tu_string!(i18n, problems.the_file),
                            upload_problem_text(problem, i18n.get_locale_untracked()),
                        )}</p>
                    })}
                </div>
                <button type="submit">{t!(i18n, archive.upload)}</button>
            </form>
        </section>
        <section aria-labelledby="opplastet-tittel">
            <h2 id="opplastet-tittel">{t!(i18n, archive.your_documents)}</h2>
            {move || delete_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, tu_string!(i18n, archive.the_document))}</p>
            })}
            <Transition fallback=move || view! { <p>{t!(i18n, archive.loading_documents)}</p> }>
                {move || Suspend::new(async move {
                    listed(uploads.await, tu_string!(i18n, archive.no_uploads), "documents uploads", move |upload| {
                        view! { <UploadItem upload delete /> }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UploadItem(upload: UploadView, delete: ServerAction<DeleteUpload>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let href = upload.href();
    let facts = tu_string!(
        i18n,
        archive.upload_facts,
        size = size_text(locale, upload.size_bytes),
        time = local_time(locale, upload.uploaded_at)
    )
    .to_string();
    view! {
        <li>
            <a href=href rel="external">{upload.name.clone()}</a>
            " "
            <span class="file-facts">
                {facts}
            </span>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="id" value=upload.id.to_string() />
                <button type="submit" class="secondary">
                    {t!(i18n, archive.delete)} <span class="visually-hidden">{format!(" {}", upload.name)}</span>
                </button>
            </ActionForm>
        </li>
    }
}
