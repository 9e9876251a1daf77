//! The check page (`/kontroll`): anyone holding a paper letter from
//! Postkasse types the code printed under the address, or scans the QR code
//! (which opens this page with the code filled in), and sees whether the
//! letter really came through Postkasse, from whom, when and with what
//! title. A plain GET form: it works without JavaScript and without login.

use crate::{
    api::check::{check_paper_letter, CheckOutcome},
    components::error_notice::ErrorNotice,
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CheckPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let code = Memo::new(move |_| {
        query.with(|query| query.get("kode").filter(|code| !code.trim().is_empty()))
    });
    let outcome = Resource::new(
        move || code.get(),
        |code| async move {
            match code {
                Some(code) => check_paper_letter(code).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text=tu_string!(i18n, check.title) />
        <h1>{t!(i18n, check.title)}</h1>
        <p class="lead">{t!(i18n, check.lead)}</p>
        <form method="get" action="/kontroll" class="check-form">
            <p>
                <label for="kontroll-kode">{t!(i18n, check.code)}</label>
                <input
                    type="text"
                    id="kontroll-kode"
                    name="kode"
                    value=move || code.get().unwrap_or_default()
                    maxlength="20"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    aria-describedby="kontroll-hjelp"
                />
                <button type="submit">{t!(i18n, check.submit)}</button>
            </p>
            <p id="kontroll-hjelp" class="hint">{t!(i18n, check.help)}</p>
        </form>
        <Suspense fallback=move || view! { <p>{t!(i18n, check.checking)}</p> }>
            {move || Suspend::new(async move {
                match outcome.await {
                    Ok(None) => ().into_any(),
                    Ok(Some(outcome)) => view! { <Outcome outcome /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Outcome(outcome: CheckOutcome) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    match outcome {
        CheckOutcome::Genuine {
            sender_name,
            sender_org_nr,
            title,
            sent_at,
        } => view! {
            <section class="check-result check-genuine" aria-labelledby="kontroll-svar" role="status">
                <h2 id="kontroll-svar">{t!(i18n, check.genuine)}</h2>
                <dl>
                    <dt>{t!(i18n, check.sender)}</dt>
                    <dd>{sender_name}" ("{t!(i18n, check.org_nr)}" "{sender_org_nr}")"</dd>
                    <dt>{t!(i18n, check.sent)}</dt>
                    <dd>{local_time(locale, sent_at)}</dd>
                    <dt>{t!(i18n, check.letter_title)}</dt>
                    <dd>{title}</dd>
                </dl>
                <p>{t!(i18n, check.genuine_text)}</p>
            </section>
        }
        .into_any(),
        CheckOutcome::Unknown => view! {
            <section class="check-result check-unknown" aria-labelledby="kontroll-svar" role="alert">
                <h2 id="kontroll-svar">{t!(i18n, check.unknown)}</h2>
                <p>{t!(i18n, check.unknown_text)}</p>
            </section>
        }
        .into_any(),
        CheckOutcome::NotACode => view! {
            <p class="error" role="alert" id="kontroll-feil">{t!(i18n, check.not_a_code)}</p>
        }
        .into_any(),
        CheckOutcome::TooManyAttempts => view! {
            <p class="error" role="alert" id="kontroll-feil">{t!(i18n, check.too_many)}</p>
        }
        .into_any(),
    }
}
