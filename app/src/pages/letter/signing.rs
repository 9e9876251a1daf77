//! What the letter page shows about signing: the sender's order to sign the
//! letter's document (what, for whom, by when, the document's SHA-256) with
//! the sign and decline forms or how it ended, and every signature in the
//! letter's PDFs, checked.
//!
//! Signing and declining are plain forms posted to `/brev/{id}/signering`:
//! one deliberate action each, the same with and without JavaScript.

use crate::{
    api::signing::{
        load_signing_area, SignatureSummary, SignatureVerdict, SigningState, SigningView,
        REASON_MAX_CHARS,
    },
    domain::LetterId,
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use leptos::prelude::*;

#[component]
pub fn SigningSection(letter: LetterId) -> impl IntoView {
    let area = Resource::new(|| (), move |_| load_signing_area(letter.to_string()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                area.await
                    .ok()
                    .map(|area| {
                        view! {
                            {area.order.map(|order| view! { <SigningOrderView letter order /> })}
                            {(!area.signatures.is_empty())
                                .then(|| view! { <Signatures signatures=area.signatures /> })}
                        }
                    })
            })}
        </Suspense>
    }
}

#[component]
fn SigningOrderView(letter: LetterId, order: SigningView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let action = format!("/brev/{letter}/signering");
    let step_up = format!("/auth/login?level=high&return_to=/brev/{letter}");
    let deadline = local_time(locale, order.deadline);
    let state = match order.state {
        SigningState::Open => view! {
            <form method="post" action=action.clone() class="sign-form">
                <input type="hidden" name="handling" value="signer" />
                <p>{tu_string!(i18n, signing.confirm, name = order.shown_as.clone())}</p>
                <button type="submit">{t!(i18n, signing.sign)}</button>
            </form>
            <details class="decline">
                <summary>{t!(i18n, signing.decline_heading)}</summary>
                <form method="post" action=action>
                    <input type="hidden" name="handling" value="avvis" />
                    <label for="begrunnelse">{t!(i18n, signing.reason)}</label>
                    <textarea id="begrunnelse" name="begrunnelse" rows="3" maxlength=REASON_MAX_CHARS.to_string()></textarea>
                    <button type="submit" class="secondary">{t!(i18n, signing.decline)}</button>
                </form>
            </details>
        }
        .into_any(),
        SigningState::NeedsStepUp => view! {
            <p>{t!(i18n, signing.needs_step_up)}</p>
            <p><a class="button" href=step_up rel="external">{t!(i18n, letter.step_up)}</a></p>
        }
        .into_any(),
        SigningState::Signed { at, signed_href } => view! {
            <p class="done" role="status">
                {tu_string!(i18n, signing.signed_at, time = local_time(locale, at))}
            </p>
            <p><a href=signed_href rel="external">{t!(i18n, signing.signed_document)}</a></p>
        }
        .into_any(),
        SigningState::Declined { at } => view! {
            <p class="done" role="status">{tu_string!(i18n, signing.declined_at, time = local_time(locale, at))}</p>
        }
        .into_any(),
        SigningState::Expired => view! {
            <p class="closed-note">{tu_string!(i18n, signing.expired, time = deadline.clone())}</p>
        }
        .into_any(),
        SigningState::Cancelled { at } => view! {
            <p class="closed-note">{tu_string!(i18n, signing.cancelled, time = local_time(locale, at))}</p>
        }
        .into_any(),
    };
    view! {
        <section id="signering" class="signing" aria-labelledby="signering-tittel">
            <h2 id="signering-tittel">{t!(i18n, signing.heading)}</h2>
            <dl class="letter-facts">
                <dt>{t!(i18n, signing.what)}</dt>
                <dd>{order.title}</dd>
                <dt>{t!(i18n, signing.for_whom)}</dt>
                <dd>{order.sender_name}</dd>
                <dt>{t!(i18n, signing.document)}</dt>
                <dd><a href=order.document_href rel="external">{order.document_name}</a></dd>
                <dt>{t!(i18n, signing.fingerprint)}</dt>
                <dd><code class="fingerprint">{order.document_sha256}</code></dd>
                <dt>{t!(i18n, signing.deadline)}</dt>
                <dd>{deadline}</dd>
                <dt>{t!(i18n, signing.shown_as)}</dt>
                <dd>{order.shown_as}</dd>
            </dl>
            {state}
        </section>
    }
}

/// Each signature in the letter's PDFs: who, when, and whether it holds.
#[component]
fn Signatures(signatures: Vec<SignatureSummary>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <section class="signatures" aria-labelledby="signaturer-tittel">
            <h2 id="signaturer-tittel">{t!(i18n, signing.signatures_heading)}</h2>
            <ul>
                {signatures
                    .into_iter()
                    .map(|signature| {
                        let who = match &signature.name {
                            Some(name) if *name != signature.signer => {
                                format!("{name} ({})", signature.signer)
                            }
                            _ => signature.signer.clone(),
                        };
                        let verdict = match signature.verdict {
                            SignatureVerdict::Valid => view! { <strong class="verdict valid">{t!(i18n, signing.valid)}</strong> }.into_any(),
                            SignatureVerdict::UnknownSigner => view! { <strong class="verdict unknown">{t!(i18n, signing.unknown_signer)}</strong> }.into_any(),
                            SignatureVerdict::Invalid => view! { <strong class="verdict invalid">{t!(i18n, signing.invalid)}</strong> }.into_any(),
                        };
                        view! {
                            <li class="signature">
                                <span>{signature.document_name}</span>": "
                                {tu_string!(i18n, signing.signed_by, name = who)}
                                {signature.signed_at.map(|at| view! {
                                    ", "
                                    <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                                })}
                                {signature.timestamped.then(|| view! { " " {t!(i18n, signing.timestamped)} })}
                                ". "
                                {verdict}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
